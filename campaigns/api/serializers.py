from __future__ import annotations

from rest_framework import serializers

from campaigns.models import AudienceKind, Campaign
from campaigns.services.campaigns import campaign_problems


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "subject", "from_name", "from_address", "html_body",
                  "audience_kind", "audience_key", "holdout_share", "attribution_window_days",
                  "max_per_second", "status", "scheduled_for", "created_at", "send_started_at",
                  "sent_at"]
        read_only_fields = ["id", "status", "scheduled_for", "created_at", "send_started_at",
                            "sent_at"]

    def validate_holdout_share(self, value: float) -> float:
        if not 0 <= value <= 0.5:
            raise serializers.ValidationError("Between 0 and 0.5.")
        return value

    def validate_attribution_window_days(self, value: int) -> int:
        if not 1 <= value <= 60:
            raise serializers.ValidationError("Between 1 and 60 days.")
        return value

    def validate(self, attrs: dict) -> dict:
        errors: dict[str, list[str]] = {}
        for problem in campaign_problems(
            subject=attrs.get("subject", ""), from_name=attrs.get("from_name", ""),
            from_address=attrs.get("from_address", ""), html_body=attrs.get("html_body", ""),
        ):
            errors.setdefault(problem.field, []).append(problem.message)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AudienceQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AudienceKind.choices, default=AudienceKind.ALL)
    key = serializers.CharField(default="all", max_length=100)
    holdout_share = serializers.FloatField(default=0.10, min_value=0, max_value=0.5)


class AudienceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    key = serializers.CharField()
    name = serializers.CharField()
    in_segment = serializers.IntegerField()
    eligible = serializers.IntegerField()
    no_email = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    no_consent = serializers.IntegerField()
    treatment_n = serializers.IntegerField()
    holdout_n = serializers.IntegerField()
    baseline_rate = serializers.FloatField(allow_null=True)
    detectable_lift = serializers.CharField(help_text="A sentence in the request's language.")
