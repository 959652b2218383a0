"""Analysis pages. Views only parse the request, call selectors/services and render."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ingest.models import Customer, Product
from ingest.pipeline.rejects import neutralise_cell
from ingest.selectors import demo_import
from profiler_site.core.extensions import customer_profile_sections
from profiler_site.core.models import JobStatus
from profiler_site.core.shop import shop_profile
from segments import charts, selectors
from segments.analysis.clv import (
    MODEL_NAMES,
    PERIOD_DAYS,
    CountModel,
    count_reading,
    spend_reading,
)
from segments.analysis.rfm import frequency_bands
from segments.forms import RefreshForm, RenameSegmentForm, RuleSettingsForm
from segments.models import SegmentationRun, SegmentKind
from segments.services.runs import (
    rule_settings_apply,
    segment_rename,
    segmentation_run_start,
)

PAGE_SIZE = 50
# A grocery household has hundreds of orders: the profile lists the latest ones a page at a time.
PROFILE_ORDERS = 50
RULES_CHARTED = 15  # the strongest rules of any size, ranked by lift, on the rules chart
RUN_CACHE_SECONDS = 24 * 3600  # a safety net: a new run changes the key anyway
T = TypeVar("T")


def _kind(value: str | None) -> str:
    return value if value in SegmentKind.values else SegmentKind.RFM


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _query(request: HttpRequest, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    return urlencode(params)


def overview_view(request: HttpRequest) -> HttpResponse:
    run = selectors.current_run()
    kpis = selectors.overview_kpis(run)
    context = {"kpis": kpis, "latest": selectors.latest_run(), "run": run, "demo": demo_import()}
    # Customers, not purchases: a shop whose only orders are refunds is not empty.
    if kpis.customers:
        segments = selectors.segments_for(SegmentKind.RFM, run)
        period = charts.revenue_period(selectors.monthly_revenue(run))
        newest = kpis.newest_order_at
        partial_to = charts.partial_last_month(
            period.shown, timezone.localtime(newest).date() if newest else None)
        context.update(
            segments=segments,
            revenue_chart=charts.revenue_over_time(period.shown, shop_profile().currency,
                                                   partial_to=partial_to),
            revenue_partial_to=partial_to,
            revenue_left_out=period.left_out,
            segment_chart=charts.segment_bars(segments, _("RFM segments: customers and revenue"))
            if segments else None,
        )
    return render(request, "segments/overview.html", context)


def segments_view(request: HttpRequest) -> HttpResponse:
    kind = _kind(request.GET.get("kind"))
    run = selectors.current_run()
    segments = selectors.segments_for(kind, run)
    return render(request, "segments/segments.html", {
        "kind": kind, "run": run, "latest": selectors.latest_run(), "segments": segments,
        "counted_to": selectors.days_counted_to(run.as_of if run else None),
        "refresh_form": RefreshForm(initial={"k": run.k_requested if run else None}),
        "chart": charts.segment_bars(segments, "") if segments else None,
        "tab": "segments",
    })


@require_POST
def refresh_view(request: HttpRequest) -> HttpResponse:
    form = RefreshForm(request.POST)
    if form.is_valid():
        _run, created = segmentation_run_start(k=form.cleaned_data["k"])
        messages.success(request, _("Analysis queued; this page shows its progress.") if created
                         else _("An analysis is already queued; it will use your setting."))
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("segments")


@require_POST
def rule_settings_view(request: HttpRequest) -> HttpResponse:
    form = RuleSettingsForm(request.POST)
    if form.is_valid():
        if rule_settings_apply(rules=form.settings()) == "rules":
            messages.success(request, _("Rule settings saved; the rules are mined again with them."))
        else:
            messages.success(request, _("Rule settings saved; the analysis runs again with them."))
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("segments-rules")


def segment_detail_view(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    if kind not in SegmentKind.values:
        raise Http404
    run = selectors.current_run()
    segments = selectors.segments_for(kind, run)
    segment = next((s for s in segments if s.key == key), None)
    if segment is None:
        raise Http404(_("No such segment in the current analysis."))
    sort = request.GET.get("sort", "-monetary")
    search = request.GET.get("q", "").strip()
    min_orders = _int(request.GET.get("min_orders"))
    members = selectors.segment_members_sorted(kind, key, sort=sort, search=search,
                                               min_orders=min_orders)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    groups, total = _scatter_groups(run, kind)
    point_count = sum(g.count for g in groups)
    names = {s.key: s.display_name for s in segments}
    counted_to = selectors.days_counted_to(run.as_of if run else None)
    return render(request, "segments/segment_detail.html", {
        "kind": kind, "segment": segment, "run": run, "page": page, "sort": sort, "q": search,
        "counted_to": counted_to, "placed": selectors.segment_placed_count(kind, key),
        "min_orders": min_orders or "",
        "top_products": selectors.segment_top_products(kind, key, segment=segment),
        "top_categories": selectors.segment_top_categories(kind, key, segment=segment),
        "scatter_script": charts.customer_scatter_script("chart-scatter", groups, names=names,
                                                         counted_to=counted_to,
                                                         highlight=key, total=total),
        "sampled": total > point_count, "point_count": point_count, "total": total,
        "rename_form": RenameSegmentForm(initial={"name": segment.display_name}),
        "email_url": "/campaigns/new/?" + urlencode({"kind": kind, "key": key}),
        "export_query": _query(request, page=None),
        "page_query": _query(request, page=None),
        "sort_query": _query(request, sort=None, page=None),
        "tab": "segments",
    })


def _per_run(run: SegmentationRun | None, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept in the cache for as long as ``run`` is the current analysis.

    For what only a new run changes but costs more than a page may spend: the key holds
    the run's id and finish time, so the next run's pages never see this one's value.
    """
    if run is None:
        return compute()
    finished = run.finished_at.timestamp() if run.finished_at else ""
    key = f"segments:{name}:{run.pk}:{finished}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=RUN_CACHE_SECONDS)
    return value


def _scatter_groups(run: SegmentationRun | None, kind: str) -> tuple[list[charts.ScatterGroup], int]:
    # Splitting and serialising 20k points is most of the segment page's work: done for
    # both kinds at the first segment page of a run, then every segment page only splices
    # the arrays in.
    def compute() -> dict[str, Any]:
        points, total = selectors.scatter_points(run=run)
        return {"total": total, **{k: charts.scatter_groups(points, color_by=k)
                                   for k in SegmentKind.values}}

    scatter = _per_run(run, "scatter", compute)
    return scatter[kind], scatter["total"]


def _cell(value) -> object:
    # Same spreadsheet-formula guard as the rejected-rows export.
    return neutralise_cell(value) if isinstance(value, str) else ("" if value is None else value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def segment_export_view(request: HttpRequest, kind: str, key: str) -> StreamingHttpResponse:
    if kind not in SegmentKind.values:
        raise Http404
    members = selectors.segment_members_sorted(
        kind, key, sort=request.GET.get("sort", "-monetary"), search=request.GET.get("q", ""),
        min_orders=_int(request.GET.get("min_orders")),
    )
    writer = csv.writer(_Echo())
    header = ["customer_id", "email", "first_name", "last_name", "recency_days", "frequency",
              "monetary", "r_score", "f_score", "m_score", "rfm_segment", "cluster",
              "p_alive", "expected_value_12m", "propensity"]

    def rows():
        yield writer.writerow(header)
        for s in members.iterator(chunk_size=2000):
            c = s.customer
            yield writer.writerow([_cell(v) for v in (
                c.pk, c.email, c.first_name, c.last_name, round(s.recency_days, 1), s.frequency,
                round(s.monetary, 2), s.r_score, s.f_score, s.m_score, s.rfm_key, s.cluster_key,
                s.p_alive, s.expected_value_12m, s.propensity)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    # The key comes from the URL: only letters, digits, - and _ reach the header.
    safe_key = re.sub(r"[^A-Za-z0-9_-]+", "_", key)[:80]
    response["Content-Disposition"] = f'attachment; filename="segment-{kind}-{safe_key}.csv"'
    return response


@require_POST
def segment_rename_view(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    if kind not in SegmentKind.values:
        raise Http404
    form = RenameSegmentForm(request.POST)
    if form.is_valid():
        segment_rename(kind=kind, key=key, name=form.cleaned_data["name"])
        messages.success(request, _("Segment name saved."))
    return redirect("segment-detail", kind=kind, key=key)


def rfm_view(request: HttpRequest) -> HttpResponse:
    run = selectors.current_run()
    grid = selectors.rfm_grid(run) if run else []
    return render(request, "segments/rfm.html", {
        "run": run, "chart": charts.rfm_heatmap(grid, shop_profile().currency) if grid else None, "grid": grid,
        "segments": selectors.segments_for(SegmentKind.RFM, run), "tab": "rfm",
        "f_scale": frequency_bands(),
    })


def _clv_context(clv: dict) -> dict:
    """Plain readings of the stored value-model numbers, for the Models page."""
    model = clv.get("model")
    if not clv.get("enough_history") or not model:
        return {}
    period_days = clv.get("period_days", PERIOD_DAYS)
    reading = count_reading(model["chosen"], model["params"], period_days)
    spend = clv.get("spend") or {}
    holdout = clv.get("holdout") or {}
    return {
        "name": MODEL_NAMES[CountModel(model["chosen"])],
        "params": model["params"],
        "reading": reading,
        "leave_pct": None if reading.leave_share is None else round(100 * reading.leave_share),
        "spend_reading": spend_reading(spend["params"]) if spend.get("usable") else None,
        "miss_pct": round(100 * holdout["miss_share"]) if "miss_share" in holdout else None,
        "comparison": [
            {**row, "name": MODEL_NAMES[CountModel(row["model"])],
             "chosen": row["model"] == model["chosen"]}
            for row in clv.get("comparison", [])
        ],
    }


def models_view(request: HttpRequest) -> HttpResponse:
    run = selectors.current_run()
    context: dict = {"run": run, "history": selectors.run_history(), "tab": "models"}
    if run is not None:
        metrics = run.metrics or {}
        names = {key: name for (kind, key), name in selectors.segment_names(run).items()}
        classifier = metrics.get("classifier", {})
        clv = metrics.get("clv", {})
        propensity = metrics.get("propensity", {})
        transitions = (metrics.get("transitions") or {}).get("rfm", [])
        moves = sorted((t for t in transitions if t[0] != t[1]), key=lambda t: -t[2])[:8]
        comparison = propensity.get("comparison", {})
        context.update(
            metrics=metrics, classifier=classifier, clv=clv, propensity=propensity,
            clv_page=_clv_context(clv),
            silhouette_chart=charts.silhouette_curve(run.silhouette_curve, run.k_chosen)
            if run.silhouette_curve.get("silhouette") else None,
            confusion_chart=charts.confusion_heatmap(classifier["confusion_labels"],
                                                     classifier["confusion"], names)
            if classifier.get("confusion") else None,
            importance_chart=charts.feature_importances(classifier["feature_importances"])
            if classifier.get("feature_importances") else None,
            holdout_chart=charts.holdout_plot(clv["holdout"])
            if clv.get("holdout", {}).get("by_frequency") else None,
            roc_chart=charts.roc_curve(propensity["roc_fpr"], propensity["roc_tpr"],
                                       comparison["model"]["auc"])
            if propensity.get("roc_fpr") else None,
            comparison=[
                {"name": label, "key": key, **(comparison.get(key) or {})}
                for key, label in (("model", _("Propensity model")), ("bgnbd", _("BG/NBD expected orders")),
                                   ("recency", _("Most recent first")))
                if comparison.get(key)
            ],
            sankey_chart=charts.movement_sankey(transitions, names),
            had_previous_run=bool(transitions),
            moves=[{"count": n, "from": names.get(a, a), "to": names.get(b, b)} for a, b, n in moves],
        )
    return render(request, "segments/models.html", context)


def rules_view(request: HttpRequest) -> HttpResponse:
    run = selectors.current_run()
    # The current run's rules are mined by their own job after it: until that job
    # succeeds the page shows the newest earlier run's rules and says so.
    shown = selectors.rules_run(run) if run else None
    mining = selectors.rule_mining_for(run)
    if mining is not None and mining.status == JobStatus.SUCCEEDED:
        mining = None
    segment = request.GET.get("segment", "")
    product_id = _int(request.GET.get("product"))
    category = request.GET.get("category", "")
    min_lift = None
    try:
        min_lift = float(request.GET["min_lift"]) if request.GET.get("min_lift") else None
    except ValueError:
        min_lift = None
    sort = request.GET.get("sort", "-lift")
    filters = {"segment": segment, "product_id": product_id, "category": category,
               "min_lift": min_lift, "run": shown}
    rules = selectors.rules_list(sort=sort, **filters)
    page = Paginator(rules, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.rule_rows(list(page.object_list))
    # The chart ranks the table's rules by lift, whatever the table is sorted by.
    strongest = selectors.rule_rows(list(
        selectors.rules_list(sort="-lift", **filters)[:RULES_CHARTED])) if shown else []
    bars = [charts.RuleBar(antecedents=tuple(p.name or p.sku for p in r.antecedents),
                           consequents=tuple(p.name or p.sku for p in r.consequents),
                           lift=r.rule.lift, confidence=r.rule.confidence, support=r.rule.support,
                           orders=r.rule.order_count)
            for r in strongest if r.antecedents and r.consequents]
    names = selectors.segment_names(run)
    return render(request, "segments/rules.html", {
        "run": run, "page": page, "rows": rows, "sort": sort, "segment": segment,
        "product": product_id, "category": category, "min_lift": request.GET.get("min_lift", ""),
        "segment_options": [(k, names.get((SegmentKind.RFM, k), k))
                            for k in (selectors.rule_segment_keys(shown) if shown else []) if k],
        "categories": selectors.product_categories(),
        "products": Product.objects.filter(pk=product_id) if product_id else [],
        "chart": charts.rules_ranked(bars, limit=RULES_CHARTED),
        "summary": (shown.baskets or {}).get("all", {}) if shown else {},
        "rules_run": shown, "mining": mining,
        "rule_settings_form": RuleSettingsForm(
            initial=(run.baskets or {}).get("requested", {}) if run else {}),
        "page_query": _query(request, page=None), "tab": "rules",
    })


def customers_view(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    rfm, cluster = request.GET.get("rfm", ""), request.GET.get("cluster", "")
    r, f = _int(request.GET.get("r")), _int(request.GET.get("f"))
    sort = request.GET.get("sort", "-monetary")
    customers = selectors.customer_list(search=search, rfm=rfm, cluster=cluster, r=r, f=f, sort=sort,
                                        page_size=PAGE_SIZE, page=_int(request.GET.get("page")) or 1)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    run = selectors.current_run()
    names = selectors.segment_names(run)
    claims = selectors.cluster_name_claims(run)
    left_out = selectors.customers_left_out(
        [c.pk for c in page.object_list if getattr(c, "score", None) is None])
    for customer in page.object_list:
        customer.left_out = left_out.get(customer.pk, "")
        score = getattr(customer, "score", None)
        customer.rfm_name = names.get((SegmentKind.RFM, score.rfm_key), score.rfm_key) if score else ""
        customer.cluster_name = names.get((SegmentKind.CLUSTER, score.cluster_key), score.cluster_key) if score else ""
        customer.cluster_claims = claims.get(score.cluster_key, []) if score else []
    return render(request, "segments/customers.html", {
        "page": page, "q": search, "rfm": rfm, "cluster": cluster, "r": r, "f": f, "sort": sort,
        "has_customers": Customer.objects.exists(),
        "counted_to": selectors.days_counted_to(run.as_of if run else None),
        "rfm_options": selectors.segments_for(SegmentKind.RFM, run),
        "cluster_options": selectors.segments_for(SegmentKind.CLUSTER, run),
        "page_query": _query(request, page=None), "sort_query": _query(request, sort=None, page=None),
    })


def customer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        profile = selectors.customer_profile(pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    return render(request, "segments/customer_detail.html", {
        "p": profile, "c": profile.customer, "s": profile.score,
        "counted_to": profile.counted_to,
        "page": Paginator(profile.orders, PROFILE_ORDERS).get_page(request.GET.get("page")),
        "page_query": "",
        # Sections other apps add (campaign history) through the kernel's extension point.
        "extra_sections": customer_profile_sections(request, pk),
    })


def product_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Product, pk=pk)
    # Its figures scan every line of the product (a popular one is in 6% of all orders):
    # computed once per analysis run, like the rules shown with them.
    # The key names the run whose rules it shows too: they may be mined after the run.
    run = selectors.current_run()
    shown = selectors.rules_run(run) if run else None
    detail = _per_run(run, f"product:{pk}:rules-{shown.pk if shown else ''}",
                      lambda: selectors.product_detail(pk))
    return render(request, "segments/product_detail.html", {"d": detail})
