"""Flow pages: thin, every decision is in services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.views import MERGE_TAG_HELP
from flows.charts import weeks_chart
from flows.forms import FlowForm
from flows.models import Flow
from flows.selectors import (
    flow_list,
    flow_preview,
    flow_stats,
    missing_trigger_segments,
    recent_enrolments,
    trigger_segment_names,
    waits_for_a_second_run,
)
from flows.services.flows import FlowError, flow_create, flow_switch, flow_update
from flows.starters import starter_switch_on, starters_offered
from profiler_site.core.shop import shop_profile


def flows_view(request: HttpRequest) -> HttpResponse:
    return render(request, "flows/flows.html", {"rows": flow_list(),
                                                "starters": starters_offered()})


def _form_page(request: HttpRequest, form: FlowForm, flow: Flow | None) -> HttpResponse:
    preview = None
    if form.is_bound and form.is_valid():
        preview = flow_preview(Flow(**form.flow_fields()))
    elif flow is not None:
        preview = flow_preview(flow)
    return render(request, "flows/flow_form.html", {
        "form": form, "flow": flow, "preview": preview, "merge_tags": MERGE_TAG_HELP,
        "time_zone": shop_profile().time_zone})


def _save(request: HttpRequest, flow: Flow | None) -> HttpResponse:
    form = FlowForm(request.POST, flow=flow)
    if "preview" in request.POST or not form.is_valid():
        return _form_page(request, form, flow)
    try:
        if flow is None:
            flow = flow_create(**form.flow_fields())
        else:
            flow = flow_update(flow_id=flow.pk, **form.flow_fields())
    except FlowError as exc:
        form.add_error(None, str(exc))
        return _form_page(request, form, flow)
    messages.success(request, _("Flow saved."))
    return redirect("flow-detail", pk=flow.pk)


def flow_new_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    shop = shop_profile()
    return _form_page(request, FlowForm(initial={
        "from_name": shop.sender_name or shop.name, "from_address": shop.sender_address,
        "trigger_kind": "segment_enter"}), None)


def flow_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=pk)
    if request.method == "POST":
        return _save(request, flow)
    return _form_page(request, FlowForm(initial=FlowForm.initial_for(flow), flow=flow), flow)


def flow_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=pk)
    stats = flow_stats(flow)
    return render(request, "flows/flow_detail.html", {
        "flow": flow, "stats": stats, "chart": weeks_chart(stats.weeks, shop_profile().currency),
        "missing": missing_trigger_segments(flow),
        "waits_for_a_second_run": waits_for_a_second_run(flow),
        "trigger_segments": trigger_segment_names(flow),
        "enrolments": recent_enrolments(flow), "time_zone": shop_profile().time_zone})


@require_POST
def flow_switch_view(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=pk)
    on = request.POST.get("on") == "1"
    flow_switch(flow_id=flow.pk, on=on)
    messages.success(request, _("Flow switched on.") if on else _(
        "Flow switched off: nobody new enters and nobody waiting is emailed."))
    return redirect("flow-detail", pk=flow.pk)


@require_POST
def starter_view(request: HttpRequest, key: str) -> HttpResponse:
    try:
        flow = starter_switch_on(key=key)
    except LookupError as exc:
        raise Http404(key) from exc
    except FlowError:  # the shop's sender address is not a valid address yet
        messages.error(request, _("Set a valid sender address in Settings first."))
        return redirect("flows")
    messages.success(request, _("Flow switched on."))
    return redirect("flow-detail", pk=flow.pk)
