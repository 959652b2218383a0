"""Upload pages: thin; the work is in ingest.services and ingest.selectors."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ingest import selectors
from ingest.forms import MappingForm, UploadForm
from ingest.models import Customer, ImportJob, ImportKind
from ingest.note_words import cleaning_notes_shown, footer_lines, rows_left_out_shown
from ingest.pipeline.errors import PipelineError
from ingest.pipeline.headers import clean_headers
from ingest.pipeline.rejects import write_rejects
from ingest.reason_words import reason_text
from ingest.services.imports import (
    ImportRejected,
    import_amount_reading,
    import_confirm,
    import_discard,
    import_identical_rows,
    import_mapping_keep,
    import_other_currencies,
    import_preview,
    import_upload_create,
)
from ingest.services.privacy import customer_archive_stream, customer_erase, customer_is_erased
from ingest.services.undo import UndoRefused, demo_remove_start, import_undo_start
from profiler_site.core.audit import Actor
from profiler_site.core.models import JobStatus
from profiler_site.core.shop import shop_profile


def uploads_view(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_upload_create(file=upload, name=upload.name, size=upload.size,
                                       user=request.user, kind=form.cleaned_data["kind"])
        except ImportRejected as exc:
            form.add_error("file", reason_text(exc.template, exc.params, exc.reason))
        else:
            if job.kind == ImportKind.EVENTS:
                import_confirm(job=job)
                return redirect("import-detail", pk=job.pk)
            return redirect("import-map", pk=job.pk)
    page = Paginator(selectors.import_history(), 25).get_page(request.GET.get("page"))
    return render(request, "ingest/uploads.html", {"form": form, "page": page,
                                                   "demo": selectors.demo_import()})


def import_map_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    if job.status != JobStatus.DRAFT:
        return redirect("import-detail", pk=job.pk)
    headers = list(clean_headers(job.headers).names)
    initial = {f"field_{k}": v for k, v in (job.mapping or {}).items()}
    dayfirst = (job.options or {}).get("dayfirst")
    decimal_comma = (job.options or {}).get("decimal_comma_chosen")
    initial.update({"preset": job.preset or "generic", "remember": True,
                    "date_order": {True: "dayfirst", False: "monthfirst"}.get(dayfirst, ""),
                    "decimal_mark": {True: "comma", False: "point"}.get(decimal_comma, ""),
                    "identical_rows": (job.options or {}).get("identical_rows") or "drop"})
    has_order_id = bool((job.mapping or {}).get("order_id"))
    form = MappingForm(request.POST or None, headers=headers, initial=initial,
                       has_order_id=has_order_id)
    if request.method == "POST" and form.is_valid() and "check" in request.POST:
        import_mapping_keep(job=job, fields=form.mapping(), preset=form.cleaned_data["preset"],
                            dayfirst=form.dayfirst(), decimal_comma=form.decimal_comma(),
                            identical_rows=form.cleaned_data["identical_rows"] or None)
        return redirect("import-map", pk=job.pk)
    if request.method == "POST" and form.is_valid():
        try:
            import_confirm(job=job, fields=form.mapping(), preset=form.cleaned_data["preset"],
                           dayfirst=form.dayfirst(), decimal_comma=form.decimal_comma(),
                           remember=form.cleaned_data["remember"],
                           identical_rows=form.cleaned_data["identical_rows"] or None)
        except ImportRejected as exc:
            form.add_error(None, reason_text(exc.template, exc.params, exc.reason))
        else:
            messages.success(request, _("Import started. You can close this page; it keeps running."))
            return redirect("import-detail", pk=job.pk)
    try:
        preview = import_preview(job=job, rows=8)
        identical = import_identical_rows(job=job)
        amount = import_amount_reading(job=job)
        currencies = import_other_currencies(job=job)
    except PipelineError as exc:
        preview = identical = amount = None
        currencies = ()
        messages.error(request, reason_text(exc.template, exc.params, exc.reason))
    rows = [dict(zip(headers, r)) for r in preview.sample_rows] if preview else []
    return render(request, "ingest/map.html", {
        "job": job, "form": form, "preview": preview, "headers": headers, "rows": rows,
        "field_rows": [form[name] for name in form.fields if name.startswith("field_")],
        "identical": identical, "amount": amount, "other_currencies": currencies,
        "shop_currency": shop_profile().currency, "has_order_id": has_order_id,
        "same_file": selectors.import_same_file(job),
    })


def import_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "ingest/detail.html", {
        "job": job,
        "report": selectors.import_report(job),
        "rejections": list(selectors.import_rejections(job=job, limit=50)),
        "rejection_kinds": selectors.import_rejection_kinds(job=job),
        "notes": cleaning_notes_shown(job.cleaning_notes or {}),
        "left_out": rows_left_out_shown(job.cleaning_notes or {}),
        "footer_lines": footer_lines(job.cleaning_notes or {}),
        "undoable": selectors.import_undoable(job),
        "undo": selectors.latest_undo(job),
        # The page says "went down by $5.00", not "by -$5.00".
        "revenue_fall": -job.revenue_change if (job.revenue_change or 0) < 0 else None,
    })


def import_rejects_view(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    headers = list(clean_headers(job.headers).names)
    # Asked for now, while the reader's language is active: the rows stream after it.
    rejections = selectors.import_rejections(job=job)

    def rows():
        buffer = io.StringIO()
        write_rejects(rejections, buffer, headers)
        yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-import-{job.pk}.csv"'
    return response


@require_POST
def import_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    import_discard(job=get_object_or_404(ImportJob, pk=pk, status=JobStatus.DRAFT))
    return redirect("uploads")


def import_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what undoing the import would do; POST: do it (in the worker)."""
    job = get_object_or_404(ImportJob, pk=pk)
    return _undo_confirm(request, job, demo=False)


def demo_remove_view(request: HttpRequest) -> HttpResponse:
    job = selectors.demo_import()
    if job is None:
        messages.info(request, _("The demo shop has already been removed."))
        return redirect("uploads")
    return _undo_confirm(request, job, demo=True)


def _undo_confirm(request: HttpRequest, job: ImportJob, *, demo: bool) -> HttpResponse:
    if request.method == "POST":
        try:
            if demo:
                demo_remove_start(user=request.user)
            else:
                import_undo_start(job=job, user=request.user)
        except UndoRefused as exc:
            messages.error(request, exc.reason)
        else:
            messages.success(request, _("Undo started. You can close this page; it keeps running."))
        return redirect("import-detail", pk=job.pk)
    return render(request, "ingest/undo_confirm.html", {
        "job": job, "demo": demo, "preview": selectors.import_undo_preview(job),
        "undoable": selectors.import_undoable(job),
    })


def customer_archive_response(stream, customer_id: int) -> StreamingHttpResponse:
    """The archive as a download (the page and the API both answer with it)."""
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer_id}-data.zip"'
    return response


def customer_archive_view(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    get_object_or_404(Customer, pk=pk)
    return customer_archive_response(
        customer_archive_stream(customer_id=pk, actor=Actor.of(request.user)), pk)


def customer_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm what erasing does; POST erases."""
    customer = get_object_or_404(Customer, pk=pk)
    if request.method == "POST":
        erasure = customer_erase(customer_id=pk, actor=Actor.of(request.user))
        if erasure.already_erased:
            messages.info(request, _("This customer was already erased."))
        else:
            messages.success(request, _(
                "Customer #%(id)s was erased. Their %(orders)s orders stay in the shop's "
                "totals, without anything that names them.") % {
                    "id": pk, "orders": f"{erasure.orders_kept:,}"})
        return redirect("customer-detail", pk=pk)
    return render(request, "ingest/customer_erase.html", {
        "customer": customer, "erased": customer_is_erased(customer)})
