from django.contrib import admin

from segments.models import BasketRule, Segment, SegmentationRun, SegmentLabel


@admin.register(SegmentationRun)
class SegmentationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "trigger", "k_chosen", "customer_count", "is_current", "created_at"]
    list_filter = ["status", "trigger", "is_current"]
    readonly_fields = ["metrics", "baskets", "silhouette_curve"]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "key", "run", "size", "revenue_share"]
    list_filter = ["kind"]


@admin.register(SegmentLabel)
class SegmentLabelAdmin(admin.ModelAdmin):
    list_display = ["kind", "key", "name", "updated_at"]


@admin.register(BasketRule)
class BasketRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "segment_key", "antecedent_ids", "consequent_ids", "lift", "confidence"]
