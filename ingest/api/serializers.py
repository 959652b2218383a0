from rest_framework import serializers

from ingest.models import ImportJob
from ingest.selectors import import_report, import_same_file


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="percent", read_only=True)
    report = serializers.SerializerMethodField()
    same_file_as = serializers.SerializerMethodField(
        help_text="id of the latest finished import of a file with exactly these bytes: "
                  "importing it again adds nothing new with the same mapping")

    class Meta:
        model = ImportJob
        fields = ["id", "kind", "original_name", "status", "phase", "message", "error", "progress",
                  "processed", "total", "preset", "mapping", "created_at", "started_at",
                  "finished_at", "report", "rows_read", "customers_created", "customers_updated",
                  "orders_created", "orders_existing", "lines_created", "rows_cleaned",
                  "rows_rejected", "same_file_as"]
        read_only_fields = fields

    def get_report(self, job: ImportJob) -> dict:
        return import_report(job)

    def get_same_file_as(self, job: ImportJob) -> int | None:
        earlier = import_same_file(job)
        return earlier.pk if earlier else None


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=["orders", "events"], default="orders")
    mapping = serializers.JSONField(required=False, help_text="field -> column; omit to use the proposed mapping")
    preset = serializers.CharField(required=False)
    dayfirst = serializers.BooleanField(required=False, allow_null=True, default=None)
    decimal_comma = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="true: amounts are written 1.234,50; false: 1,234.50; omit to detect")
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
