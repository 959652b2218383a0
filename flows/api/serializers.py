from __future__ import annotations

from rest_framework import serializers

from flows.models import Flow


class FlowSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flow
        fields = ["id", "name", "starter_key", "trigger_kind", "trigger_params", "wait_hours",
                  "subject", "from_name", "from_address", "html_body", "exit_on_order",
                  "reentry_days", "holdout_share", "conversion_window_days",
                  "window_start_hour", "window_end_hour", "is_active", "version", "created_at"]
        read_only_fields = ["id", "starter_key", "is_active", "version", "created_at"]


class SwitchSerializer(serializers.Serializer):
    on = serializers.BooleanField()
