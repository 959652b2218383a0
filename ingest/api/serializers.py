from rest_framework import serializers

from ingest.models import ImportJob
from ingest.selectors import import_report


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="percent", read_only=True)
    report = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "kind", "original_name", "status", "phase", "message", "error", "progress",
                  "processed", "total", "preset", "mapping", "created_at", "started_at",
                  "finished_at", "report", "rows_read", "customers_created", "customers_updated",
                  "orders_created", "orders_existing", "lines_created", "rows_cleaned",
                  "rows_rejected"]
        read_only_fields = fields

    def get_report(self, job: ImportJob) -> dict:
        return import_report(job)


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=["orders", "events"], default="orders")
    mapping = serializers.JSONField(required=False, help_text="field -> column; omit to use the proposed mapping")
    preset = serializers.CharField(required=False)
    dayfirst = serializers.BooleanField(required=False, allow_null=True, default=None)
    identical_rows = serializers.ChoiceField(
        choices=["drop", "keep"], required=False,
        help_text="without an order id, rows equal to an earlier row are the same line "
                  "exported twice (drop, the default) or separate purchases (keep)")


class EventSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=320, help_text="email or the shop's customer id")
    type = serializers.CharField(max_length=64)
    time = serializers.DateTimeField()
    properties = serializers.DictField(required=False, default=dict)


class EventBatchSerializer(serializers.Serializer):
    events = EventSerializer(many=True, allow_empty=False, max_length=5000)
