from django.contrib import admin

from flows.models import Enrolment, Flow


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ("name", "trigger_kind", "is_active", "version", "holdout_share")
    readonly_fields = ("version", "seed")


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ("flow", "customer_id", "entered_at", "state", "skip_reason", "holdout")
    list_filter = ("state", "skip_reason", "holdout")
    raw_id_fields = ("customer", "recipient")
