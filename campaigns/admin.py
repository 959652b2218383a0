from django.contrib import admin

from campaigns.models import Campaign, CampaignSend, Link, Recipient, Suppression


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "audience_kind", "audience_key", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "subject"]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["email", "campaign", "group", "status", "sent_at", "attempts"]
    list_filter = ["group", "status"]
    search_fields = ["email"]
    raw_id_fields = ["campaign", "customer"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]


admin.site.register(Link)
admin.site.register(CampaignSend)
