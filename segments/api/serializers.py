from __future__ import annotations

from rest_framework import serializers

from segments.models import BasketRule, CustomerScore, Recommendation, Segment, SegmentationRun
from segments.services.runs import MAX_K, MIN_K


class SegmentSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = ["id", "run", "kind", "key", "name", "display_name", "description", "rule_text",
                  "rule_coverage", "size", "share", "revenue", "revenue_share",
                  "avg_recency_days", "avg_frequency", "avg_monetary"]

    def get_display_name(self, obj: Segment) -> str:
        return getattr(obj, "display_name", obj.name)


class CustomerScoreSerializer(serializers.ModelSerializer):
    email = serializers.CharField(source="customer.email", read_only=True)
    name = serializers.CharField(source="customer.display_name", read_only=True)

    class Meta:
        model = CustomerScore
        fields = ["customer_id", "email", "name", "recency_days", "frequency", "monetary",
                  "avg_order_value", "r_score", "f_score", "m_score", "rfm_key", "cluster_key",
                  "p_alive", "expected_orders_90", "expected_orders_365", "expected_value_12m",
                  "propensity", "propensity_percentile", "interests"]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentationRun
        fields = ["id", "status", "phase", "processed", "total", "percent", "message", "error",
                  "trigger", "k_mode", "k_requested", "k_chosen", "k_reason", "as_of",
                  "customer_count", "order_count", "is_current", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    k = serializers.IntegerField(required=False, allow_null=True, min_value=MIN_K,
                                 max_value=MAX_K)


class BasketRuleSerializer(serializers.ModelSerializer):
    sentence = serializers.CharField(read_only=True, default="")

    class Meta:
        model = BasketRule
        fields = ["id", "segment_key", "antecedent_ids", "consequent_ids", "support",
                  "confidence", "lift", "leverage", "conviction", "order_count", "sentence"]


class RecommendationSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    product_sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = Recommendation
        fields = ["customer_id", "product_id", "product_name", "product_sku", "rank", "score",
                  "source"]
