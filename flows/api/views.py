"""Flow API: list/create, switch on/off, stats. Thin: services and selectors decide."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.verdicts import verdict_sentence
from flows.api.serializers import FlowSerializer, SwitchSerializer
from flows.models import Flow
from flows.selectors import flow_stats
from flows.services.flows import FlowError, flow_create, flow_switch


class FlowListCreateApiView(generics.ListCreateAPIView):
    serializer_class = FlowSerializer
    queryset = Flow.objects.order_by("pk")

    def perform_create(self, serializer: FlowSerializer) -> None:
        try:
            serializer.instance = flow_create(**serializer.validated_data)
        except FlowError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc


class FlowSwitchApiView(APIView):
    @extend_schema(request=SwitchSerializer, responses=FlowSerializer)
    def post(self, request: Request, pk: int) -> Response:
        flow = get_object_or_404(Flow, pk=pk)
        body = SwitchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(FlowSerializer(flow_switch(flow_id=flow.pk, on=body.validated_data["on"])).data)


def _group(g) -> dict:
    return {"entrants": g.entrants, "conversions": g.conversions, "revenue": str(g.revenue),
            "revenue_per_entrant": str(g.revenue_per_entrant)}


class FlowStatsApiView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, pk: int) -> Response:
        flow = get_object_or_404(Flow, pk=pk)
        stats = flow_stats(flow)
        lift = stats.lift
        return Response({
            "flow": flow.pk, "is_active": flow.is_active, "version": flow.version,
            "entered": stats.entered, "waiting": stats.waiting,
            "handed_over": stats.handed_over, "emailed": stats.emailed,
            "held_out": stats.held_out, "skipped": stats.skipped,
            "treated": _group(stats.treated), "holdout": _group(stats.holdout),
            "earned": str(stats.earned), "may_cost_sales": stats.may_cost_sales,
            "weeks": [{"week": w.week.isoformat(), "treated": _group(w.treated),
                       "holdout": _group(w.holdout)} for w in stats.weeks],
            "lift": None if lift is None else {
                "absolute_lift_points": lift.absolute_lift_points,
                "absolute_lift_ci_points": [lift.absolute_lift_ci_points.low,
                                            lift.absolute_lift_ci_points.high],
                "p_value": lift.p_value, "test": lift.test_name,
                "significant": lift.significant, "verdict": verdict_sentence(lift),
            },
        })
