"""Read the current analysis; start a run. Views stay thin: selectors and services do the work."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from segments import selectors
from segments.api import serializers as s
from segments.models import BasketRule, CustomerScore, Recommendation, Segment, SegmentationRun
from segments.services.runs import segmentation_run_start


@extend_schema(parameters=[OpenApiParameter("kind", str, enum=["rfm", "cluster"])])
class SegmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Segments of the current run."""

    serializer_class = s.SegmentSerializer
    queryset = Segment.objects.none()

    def get_queryset(self):
        run = selectors.current_run()
        qs = Segment.objects.filter(run=run).order_by("kind", "-revenue", "key")
        kind = self.request.query_params.get("kind")
        return qs.filter(kind=kind) if kind else qs

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        names = selectors.segment_names()
        for segment in page if page is not None else []:
            segment.display_name = names.get((segment.kind, segment.key), segment.name)
        return page


@extend_schema(parameters=[OpenApiParameter("rfm", str), OpenApiParameter("cluster", str)])
class CustomerScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers with their current scores; filter by ?rfm=<key> or ?cluster=<key>."""

    serializer_class = s.CustomerScoreSerializer
    queryset = CustomerScore.objects.none()
    lookup_field = "customer_id"

    def get_queryset(self):
        qs = CustomerScore.objects.select_related("customer").order_by("customer_id")
        params = self.request.query_params
        if params.get("rfm"):
            qs = qs.filter(rfm_key=params["rfm"])
        if params.get("cluster"):
            qs = qs.filter(cluster_key=params["cluster"])
        return qs


class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Segmentation runs; POST starts one (or returns the one already queued)."""

    serializer_class = s.RunSerializer
    # Not the JSON the pages draw from (page_data is about a megabyte per run): the
    # serializer shows none of it.
    queryset = SegmentationRun.objects.defer(
        "page_data", "metrics", "baskets", "silhouette_curve").order_by("-created_at", "-pk")

    @extend_schema(request=s.RunStartSerializer, responses={202: s.RunSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        start = s.RunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        run, created = segmentation_run_start(k=start.validated_data.get("k"))
        return Response(s.RunSerializer(run).data,
                        status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


@extend_schema(parameters=[OpenApiParameter("segment", str), OpenApiParameter("product", int),
                           OpenApiParameter("min_lift", float)])
class BasketRuleViewSet(viewsets.ReadOnlyModelViewSet):
    """Association rules of the newest run whose rules are mined (segment '' = all orders)."""

    serializer_class = s.BasketRuleSerializer
    queryset = BasketRule.objects.none()

    def get_queryset(self):
        p = self.request.query_params
        try:
            min_lift = float(p["min_lift"]) if p.get("min_lift") else None
            product = int(p["product"]) if p.get("product") else None
        except ValueError:
            min_lift = product = None
        return selectors.rules_list(segment=p.get("segment", ""), product_id=product,
                                    min_lift=min_lift)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page:
            for row in selectors.rule_rows(page):
                row.rule.sentence = row.sentence
        return page


@extend_schema(parameters=[OpenApiParameter("customer", int)])
class RecommendationViewSet(viewsets.ReadOnlyModelViewSet):
    """Recommended products per customer (current run); filter with ?customer=<id>."""

    serializer_class = s.RecommendationSerializer
    queryset = Recommendation.objects.none()

    def get_queryset(self):
        qs = Recommendation.objects.select_related("product").order_by("customer_id", "rank")
        customer = self.request.query_params.get("customer")
        if customer and customer.isdigit():
            qs = qs.filter(customer_id=int(customer))
        return qs
