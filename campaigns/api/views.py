"""Campaign API: list/create, audience count, send, stats. Thin: services and selectors decide."""

from __future__ import annotations

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.serializers import (
    AudienceQuerySerializer,
    AudienceSerializer,
    CampaignSerializer,
)
from campaigns.models import Campaign
from campaigns.selectors import audience_summary, campaign_report
from campaigns.services.campaigns import CampaignError, campaign_create, campaign_send_start
from campaigns.verdicts import verdict_sentence


class CampaignListCreateApiView(generics.ListCreateAPIView):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.order_by("-created_at")

    def perform_create(self, serializer: CampaignSerializer) -> None:
        serializer.instance = campaign_create(user=self.request.user, **serializer.validated_data)


class CampaignDetailApiView(generics.RetrieveAPIView):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()


class AudienceApiView(APIView):
    @extend_schema(parameters=[AudienceQuerySerializer], responses=AudienceSerializer)
    def get(self, request: Request) -> Response:
        query = AudienceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = audience_summary(**query.validated_data)
        data = {f: getattr(summary, f) for f in AudienceSerializer().fields}
        return Response(AudienceSerializer(data).data)


class CampaignSendApiView(APIView):
    @extend_schema(request=None, responses={202: dict})
    def post(self, request: Request, pk: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            job = campaign_send_start(campaign_id=campaign.pk)
        except CampaignError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"campaign": campaign.pk, "send_job": job.pk, "status": "sending"},
                        status=status.HTTP_202_ACCEPTED)


class CampaignStatsApiView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, pk: int) -> Response:
        campaign = get_object_or_404(Campaign, pk=pk)
        report = campaign_report(campaign)
        lift = report.lift
        return Response({
            "campaign": campaign.pk,
            "status": campaign.status,
            "audience": report.audience,
            "treatment": report.treatment,
            "holdout": report.holdout,
            "pending": report.pending,
            "sent": report.sent,
            "delivered": report.delivered,
            "failed": report.failed,
            "unknown": report.unknown,
            "skipped": report.skipped,
            "skipped_reasons": {s.reason: s.count for s in report.skipped_reasons},
            "opened": report.opened,
            "opens_note": "Opens are unreliable (image loading by mail apps).",
            "clicked": report.clicked,
            "unsubscribed": report.unsubscribed,
            "window_days": report.window_days,
            "groups": [asdict(g) for g in report.groups],
            "lift": None if lift is None else {
                "treated_rate": lift.treated_rate,
                "holdout_rate": lift.holdout_rate,
                "absolute_lift_points": lift.absolute_lift_points,
                "absolute_lift_ci_points": [lift.absolute_lift_ci_points.low,
                                            lift.absolute_lift_ci_points.high],
                "relative_lift": lift.relative_lift,
                "relative_lift_ci": None if lift.relative_lift_ci is None else [
                    lift.relative_lift_ci.low, lift.relative_lift_ci.high],
                "p_value": lift.p_value,
                "test": lift.test_name,  # a stable English name, not translated
                "small_sample": lift.small_sample,
                "significant": lift.significant,
                "verdict_kind": lift.verdict_kind.value,
                "verdict": verdict_sentence(lift),  # in the request's language
            },
        })
