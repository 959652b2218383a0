from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ingest.models import Customer, ImportJob
from ingest.pipeline.errors import RowError
from ingest.selectors import import_history
from ingest.services.event_imports import api_events_store
from ingest.services.imports import (
    ImportRejected,
    import_abandon,
    import_confirm,
    import_upload_create,
)
from ingest.services.privacy import customer_archive_stream, customer_erase
from ingest.views import customer_archive_response
from profiler_site.core.audit import Actor

from .serializers import EventBatchSerializer, ImportCreateSerializer, ImportJobSerializer


def _error(message: str, code: str = "invalid", http=status.HTTP_400_BAD_REQUEST, **extra):
    return Response({"error": {"code": code, "message": message, "details": extra or None}},
                    status=http)


class ImportListCreateApi(ListAPIView):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return import_history()

    @extend_schema(request=ImportCreateSerializer, responses={201: ImportJobSerializer})
    def post(self, request):
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            job = import_upload_create(file=upload, name=upload.name, size=upload.size,
                                       user=request.user, kind=data.validated_data["kind"])
        except ImportRejected as exc:
            return _error(exc.reason, code="file_rejected")
        mapping = data.validated_data.get("mapping")
        try:
            import_confirm(job=job, fields=mapping, preset=data.validated_data.get("preset"),
                           dayfirst=data.validated_data.get("dayfirst"),
                           decimal_comma=data.validated_data.get("decimal_comma"),
                           remember=mapping is not None,
                           identical_rows=data.validated_data.get("identical_rows"))
        except ImportRejected as exc:
            import_abandon(job=job, rejected=exc)
            return _error(exc.reason, code="mapping_incomplete", import_id=job.pk)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportDetailApi(APIView):
    @extend_schema(responses={200: ImportJobSerializer})
    def get(self, request, pk: int):
        return Response(ImportJobSerializer(get_object_or_404(ImportJob, pk=pk)).data)


class EventsApi(APIView):
    parser_classes = [JSONParser]
    accepts_events_key = True  # the one endpoint a website's events-only key may call

    @extend_schema(request=EventBatchSerializer, responses={202: dict})
    def post(self, request):
        data = EventBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = api_events_store(events=data.validated_data["events"])
        except RowError as exc:
            return _error(exc.reason)
        rows = data.validated_data["events"]
        return Response({"received": len(rows), "created": created}, status=status.HTTP_202_ACCEPTED)


class CustomerArchiveApi(APIView):
    """Everything kept about one customer, as a zip streamed while it is written."""

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request, pk: int):
        get_object_or_404(Customer, pk=pk)
        return customer_archive_response(
            customer_archive_stream(customer_id=pk, actor=Actor.of(request.user)), pk)


class CustomerEraseApi(APIView):
    """Forget a customer: personal data gone, orders kept anonymous, never re-imported."""

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, pk: int):
        get_object_or_404(Customer, pk=pk)
        erasure = customer_erase(customer_id=pk, actor=Actor.of(request.user))
        return Response({"customer": pk, "already_erased": erasure.already_erased,
                         "orders_kept": erasure.orders_kept,
                         "events_cleared": erasure.events_cleared})
