"""Plotly figures as plain dicts (data in, figure out), drawn by plotly.js in the page.

Plain dicts instead of plotly.graph_objects: validation of a 20k-point figure costs
more than the rest of the page, and the page only needs the JSON.

Titles, axis labels, legend and hover text are translated when a figure is built, in
the language of the request. No figure is cached: the one per-run cache of the pages
(the scatter's ``ScatterGroup`` arrays) holds numbers only, and the text is added to
them per request, so one reader's language never reaches another's page.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.utils.formats import date_format
from django.utils.html import json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from profiler_site.core.templatetags.money import format_money
from profiler_site.core.templatetags.percent import percent
from segments.analysis.clv import MODEL_NAMES, CountModel
from segments.analysis.rfm import RFM_SEGMENTS
from segments.computed_text import feature_label

Figure = dict[str, Any]

PALETTE = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#ea580c", "#4f46e5", "#0d9488", "#9333ea",
]


def label(text: object) -> str:
    """A name from the owner's data as plotly.js text: its tags shown, never rendered.

    plotly.js renders <a href>, <b>, <br> and <span style> in any text it draws and
    decodes entities, so an escaped name reads exactly as typed.
    """
    return html.escape(str(text), quote=False)


# Light for zero, dark for the most: plotly.js's named "Blues" runs the other way
# (dark blue at the low end, grey at the top), which made empty cells the loudest.
SEQUENTIAL = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"],
              [1.0, "#08306b"]]


def _count_heatmap(z: Sequence[Sequence[float]], **extra: Any) -> dict[str, Any]:
    """A heatmap of counts whose scale starts at zero, so zero is always the lightest
    cell and the biggest count the darkest; cell labels take plotly's contrasting
    colour (dark on light, white on dark)."""
    top = max((v for row in z for v in row if v is not None), default=0)
    return {"type": "heatmap", "z": [list(row) for row in z], "zmin": 0, "zmax": max(top, 1),
            "colorscale": SEQUENTIAL, **extra}


def _layout(title: str = "", **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 15}} if title else None,
        "margin": {"l": 60, "r": 20, "t": 40 if title else 10, "b": 50},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2},
    }
    if (extra.get("xaxis") or {}).get("title"):
        # The legend goes to the figure's foot, under the x axis's title, with room
        # kept for both: placed relative to the plot, a long legend ran over the title.
        layout["legend"] = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"}
        layout["margin"] = {**layout["margin"], "b": 80}
    layout.update(extra)
    return {k: v for k, v in layout.items() if v is not None}


@dataclass(frozen=True, kw_only=True, slots=True)
class LeftOutSpan:
    """Months with orders the revenue chart leaves out: first and last "YYYY-MM"."""

    first: str
    last: str
    orders: int
    revenue: float

    @property
    def first_month(self) -> date:
        return _month_start(self.first)

    @property
    def last_month(self) -> date:
        return _month_start(self.last)


def _month_start(month: str) -> date:
    year, number = month.split("-")[:2]
    return date(int(year), int(number), 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class RevenuePeriod:
    shown: list[Mapping[str, Any]]
    left_out: tuple[LeftOutSpan, ...]


def _month_number(month: str) -> int:
    year, number = month.split("-")[:2]
    return int(year) * 12 + int(number)


def revenue_period(months: Sequence[Mapping[str, Any]], *, max_gap_months: int = 12) -> RevenuePeriod:
    """The continuous stretch of months the revenue chart shows, and what it leaves out.

    A stray order decades before the shop opened (a mistyped year) would squeeze the
    real years into a sliver at one end of a date axis. Months split into stretches
    wherever more than ``max_gap_months`` months in a row had no order; the stretch
    with the most orders is shown (the most recent one on a tie), the others are
    returned to be named under the chart. A quiet year inside a stretch stays: the
    empty space is honest there.
    """
    ordered = sorted(months, key=lambda m: m["month"])
    stretches: list[list[Mapping[str, Any]]] = []
    for month in ordered:
        if stretches and _month_number(month["month"]) - _month_number(
                stretches[-1][-1]["month"]) - 1 <= max_gap_months:
            stretches[-1].append(month)
        else:
            stretches.append([month])
    if len(stretches) <= 1:
        return RevenuePeriod(shown=list(ordered), left_out=())
    best = max(range(len(stretches)), key=lambda i: (sum(m["orders"] for m in stretches[i]), i))
    return RevenuePeriod(shown=stretches[best], left_out=tuple(
        LeftOutSpan(first=s[0]["month"], last=s[-1]["month"], orders=sum(m["orders"] for m in s),
                    revenue=sum(m["revenue"] for m in s))
        for i, s in enumerate(stretches) if i != best))


def partial_last_month(months: Sequence[Mapping[str, Any]], newest: date | None) -> date | None:
    """The day the chart's last month stops at, when that is before the month's end.

    The newest order in the data ends the last month's bar: read on 8 December, the
    December bar holds one week, and drawn like the whole months beside it, it reads
    as a collapse in sales. None when the last month is whole (or there is none).
    """
    if not months or newest is None:
        return None
    last = _month_start(months[-1]["month"])
    if (newest.year, newest.month) != (last.year, last.month):
        return None
    next_month = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return newest if (next_month - newest).days > 1 else None


def revenue_over_time(months: Sequence[Mapping[str, Any]], currency: str = "",
                      partial_to: date | None = None) -> Figure:
    """Stacked bars per month; the last month hatched when it stops at `partial_to`."""
    x = [m["month"] for m in months]
    # Per bar: plain, but the last one hatched when the data stops inside its month.
    pattern = {"shape": ["" for _m in months[:-1]] + ["/"]} if partial_to and months else None
    # plotly.js names months in English only (no locale bundle is served): a Chinese
    # reader gets numbered months instead of "Jan 2025".
    month_format = "%Y年%-m月" if (get_language() or "").startswith("zh") else "%b %Y"
    return {
        "data": [
            {"type": "bar", "name": _("New customers"), "x": x,
             "y": [round(m["new_revenue"], 2) for m in months],
             "marker": {"color": PALETTE[2], **({"pattern": pattern} if pattern else {})}},
            {"type": "bar", "name": _("Returning customers"), "x": x,
             "y": [round(m["returning_revenue"], 2) for m in months],
             "marker": {"color": PALETTE[0], **({"pattern": pattern} if pattern else {})}},
        ],
        "layout": _layout(_("Revenue per month: new vs returning customers"), barmode="stack",
                          xaxis={"title": {"text": _("Month")}, "tickformat": month_format,
                                 "hoverformat": month_format},
                          yaxis={"title": {"text": f"{_('Revenue')} {currency}".strip()},
                                 "tickformat": ",.0f"}),
    }


def segment_bars(segments: Sequence[Any], title: str) -> Figure:
    names = [label(s.display_name) for s in segments]
    return {
        "data": [
            {"type": "bar", "name": _("Share of customers"), "x": names,
             "y": [round(100 * s.share, 1) for s in segments], "marker": {"color": PALETTE[0]}},
            {"type": "bar", "name": _("Share of revenue"), "x": names,
             "y": [round(100 * s.revenue_share, 1) for s in segments],
             "marker": {"color": PALETTE[3]}},
        ],
        "layout": _layout(title, barmode="group", xaxis={"title": {"text": _("Segment")}},
                          yaxis={"title": {"text": _("share of all customers or revenue (%)")}}),
    }


def scatter_hover(counted_to: date | None = None) -> str:
    # Plotly's own %{...} fields go in as values, so translators never see them. Days
    # counted to an earlier day than today name it, as the customer sentences do.
    values = {"days": "%{x:.0f}", "spend": "%{y:,.0f}"}
    if counted_to is None:
        text = _("last order %(days)s days ago<br>spend %(spend)s") % values
    else:
        text = _("last order %(days)s days before %(date)s<br>spend %(spend)s") % {
            **values, "date": date_format(counted_to, "DATE_FORMAT")}
    return text + "<extra>%{fullData.name}</extra>"


@dataclass(frozen=True, kw_only=True, slots=True)
class ScatterGroup:
    """One segment's points, already serialised: the per-point work of the scatter."""

    key: str
    count: int
    x_json: str
    y_json: str
    ids_json: str


def _log_axis_values(values: np.ndarray) -> np.ndarray:
    # Whole days and whole money: the hover shows them so, a finer value moves no pixel
    # on a 460 px log axis, and integers keep the 20k-point JSON a third smaller.
    return np.rint(np.maximum(values, 0) + 1).astype(np.int64)


def scatter_groups(points: Sequence[tuple[float, float, str, str, int]], *,
                   color_by: str) -> list[ScatterGroup]:
    """Points (recency_days, monetary, rfm_key, cluster_key, customer_id) split by segment,
    biggest segment first, with x = days + 1 and y = spend + 1 for the log axes."""
    position = 2 if color_by == "rfm" else 3
    n = len(points)
    x = _log_axis_values(np.fromiter((p[0] for p in points), dtype=np.float64, count=n))
    y = _log_axis_values(np.fromiter((p[1] for p in points), dtype=np.float64, count=n))
    ids = np.fromiter((p[4] for p in points), dtype=np.int64, count=n)
    members: dict[str, list[int]] = {}
    for i, point in enumerate(points):
        members.setdefault(point[position], []).append(i)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    return [
        ScatterGroup(key=key, count=len(rows), x_json=dumps(x[rows].tolist()),
                     y_json=dumps(y[rows].tolist()), ids_json=dumps(ids[rows].tolist()))
        for key, rows in sorted(members.items(), key=lambda kv: -len(kv[1]))
    ]


def customer_scatter_script(element_id: str, groups: Sequence[ScatterGroup], *,
                            names: Mapping[str, str], highlight: str | None = None,
                            total: int | None = None,
                            counted_to: date | None = None) -> SafeString:
    """The scatter as the ``<script type="application/json">`` that ``json_script`` would
    write for it, but splicing in the groups' serialised arrays instead of re-encoding
    60k numbers on every request. Log recency vs log spend, one WebGL trace per segment."""
    token = f"@@{secrets.token_hex(8)}"
    hover = scatter_hover(counted_to)
    traces = []
    for i, group in enumerate(groups):
        dim = highlight is not None and group.key != highlight
        traces.append({
            "type": "scattergl", "mode": "markers", "name": label(names.get(group.key, group.key)),
            "x": f"{token}x{i}", "y": f"{token}y{i}", "customdata": f"{token}c{i}",
            "hovertemplate": hover,
            "marker": {"size": 5, "color": PALETTE[i % len(PALETTE)],
                       "opacity": 0.15 if dim else 0.7},
        })
    shown = sum(g.count for g in groups)
    if total and total > shown:
        title = _("Customers: days since last order vs total spend (log scales) — random "
                  "sample of %(shown)s of %(total)s") % {"shown": f"{shown:,}", "total": f"{total:,}"}
    else:
        title = _("Customers: days since last order vs total spend (log scales)")
    figure = {
        "data": traces,
        "layout": _layout(title, height=460,
                          xaxis={"type": "log", "title": {"text": _("days since last order + 1")}},
                          yaxis={"type": "log", "title": {"text": _("total spend + 1")}}),
    }
    script = str(json_script(figure, element_id))
    arrays = {f'"{token}{axis}{i}"': text for i, g in enumerate(groups)
              for axis, text in (("x", g.x_json), ("y", g.y_json), ("c", g.ids_json))}
    # Numbers and commas need none of json_script's HTML escaping.
    return mark_safe(re.sub(f'"{token}[xyc]\\d+"', lambda m: arrays[m.group(0)], script))


def rfm_heatmap(cells: Iterable[Mapping[str, Any]], currency: str) -> Figure:
    counts = [[0] * 5 for _row in range(5)]
    revenue = [[0.0] * 5 for _row in range(5)]
    for c in cells:
        counts[c["r_score"] - 1][c["f_score"] - 1] = c["customers"]
        revenue[c["r_score"] - 1][c["f_score"] - 1] = float(c["revenue"] or 0)
    text = [[ngettext("%(customers)s customer<br>%(revenue)s revenue",
                      "%(customers)s customers<br>%(revenue)s revenue", counts[r][f])
             % {"customers": f"{counts[r][f]:,}",
                "revenue": format_money(revenue[r][f], currency, whole=True)}
             for f in range(5)] for r in range(5)]
    return {
        "data": [_count_heatmap(
            counts, x=[1, 2, 3, 4, 5], y=[1, 2, 3, 4, 5], text=text, texttemplate="%{text}",
            hovertemplate="R=%{y} F=%{x}<br>%{text}<extra></extra>",
            colorbar={"title": {"text": _("customers")}})],
        "layout": _layout(_("Customers by recency (R) and frequency (F) score — click a cell"),
                          height=480,
                          xaxis={"title": {"text": _("F score (5 = most orders)")}, "dtick": 1},
                          yaxis={"title": {"text": _("R score (5 = most recent)")}, "dtick": 1}),
    }


def silhouette_curve(curve: Mapping[str, Any], chosen: int | None) -> Figure:
    silhouette = curve.get("silhouette", {})
    ks = sorted(int(k) for k in silhouette)
    shares = curve.get("smallest_share", {})
    return {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "name": _("silhouette"), "x": ks,
             "y": [silhouette[str(k)] for k in ks],
             "text": [_("smallest cluster %(share)s") % {"share": f"{100 * shares.get(str(k), 0):.1f}%"}
                      for k in ks]},
        ] + ([{"type": "scatter", "mode": "markers", "name": _("chosen k=%(k)s") % {"k": chosen},
               "x": [chosen], "y": [silhouette[str(chosen)]],
               "marker": {"size": 14, "color": PALETTE[1], "symbol": "star"}}]
             if chosen and str(chosen) in silhouette else []),
        "layout": _layout(_("Silhouette by number of clusters (higher = better separated)"),
                          xaxis={"title": {"text": _("number of clusters (k)")}, "dtick": 1},
                          yaxis={"title": {"text": _("silhouette")}}),
    }


def confusion_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]],
                      names: Mapping[str, str]) -> Figure:
    shown = [label(names.get(key, key)) for key in labels]
    return {
        "data": [_count_heatmap(matrix, x=shown, y=shown, texttemplate="%{z:,}", showscale=False,
                                hovertemplate=_("actual %(actual)s, predicted %(predicted)s: "
                                                "%(count)s customers")
                                % {"actual": "%{y}", "predicted": "%{x}", "count": "%{z:,}"}
                                + "<extra></extra>")],
        # Segment names are long ("At risk, once frequent"): the margins grow to fit
        # them instead of clipping them to their last word.
        "layout": _layout(_("Confusion matrix on held-out customers"),
                          height=max(380, 40 * len(shown) + 240),
                          margin={"l": 20, "r": 20, "t": 40, "b": 20},
                          # A set standoff makes automargin make room for the title too
                          # (without one plotly.js squeezes it onto the tick labels).
                          xaxis={"title": {"text": _("predicted segment"), "standoff": 12},
                                 "automargin": True, "tickangle": -30},
                          yaxis={"title": {"text": _("actual segment"), "standoff": 12},
                                 "autorange": "reversed", "automargin": True}),
    }


def feature_importances(importances: Mapping[str, float]) -> Figure:
    ranked = sorted(importances.items(), key=lambda kv: kv[1])
    return {
        "data": [{"type": "bar", "orientation": "h", "x": [round(v, 4) for _k, v in ranked],
                  "y": [feature_label(k) for k, _v in ranked], "marker": {"color": PALETTE[0]}}],
        "layout": _layout(_("What defines the clusters (random forest importance)"),
                          margin={"l": 180, "r": 20, "t": 40, "b": 50},
                          xaxis={"title": {"text": _("importance (higher = more decisive)")}}),
    }


def holdout_plot(holdout: Mapping[str, Any]) -> Figure:
    by = holdout.get("by_frequency", {})
    x = [str(int(f)) for f in by.get("frequency", [])]
    if x:
        x[-1] = x[-1] + "+"
    # One bar per compared model, then the actual one.
    predicted = by.get("predicted_by_model") or {"bgnbd": by.get("predicted", [])}
    return {
        "data": [
            *({"type": "bar", "name": _("predicted (%(model)s)") % {"model": MODEL_NAMES[CountModel(m)]},
               "x": x, "y": y} for m, y in predicted.items()),
            {"type": "bar", "name": _("actual"), "x": x, "y": by.get("actual", [])},
        ],
        "layout": _layout(_("Holdout check: purchases in the last %(days)s days")
                          % {"days": holdout.get("days", "?")},
                          barmode="group",
                          # "6+" is a category, not the number 6.
                          xaxis={"title": {"text": _("repeat purchases before the holdout")},
                                 "type": "category"},
                          yaxis={"title": {"text": _("mean purchases per customer")}}),
    }


def roc_curve(fpr: Sequence[float], tpr: Sequence[float], auc: float) -> Figure:
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "name": _("model (AUC %(auc)s)") % {"auc": f"{auc:.2f}"},
             "x": list(fpr), "y": list(tpr)},
            {"type": "scatter", "mode": "lines", "name": _("chance"), "x": [0, 1], "y": [0, 1],
             "line": {"dash": "dot", "color": "#999"}},
        ],
        "layout": _layout(_("Propensity ROC on the evaluation period"),
                          xaxis={"title": {"text": _("false positive rate")}},
                          yaxis={"title": {"text": _("true positive rate")}}),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class SankeyFlows:
    """Segments before (sources) and now (targets), each with at least one flow, and
    the flows as (source index, target index, customers)."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    links: tuple[tuple[int, int, int], ...]


def sankey_flows(transitions: Sequence[Sequence[Any]], order: Sequence[str]) -> SankeyFlows | None:
    """The flows worth drawing, or None when no customer changed segment.

    A segment gets a node on a side only if a flow leaves (or reaches) it there: a
    node with nothing attached reads as a flow too thin to see.
    """
    flows = [(a, b, int(n)) for a, b, n in transitions if n and n > 0]
    if not any(a != b for a, b, _n in flows):
        return None
    rank = {key: i for i, key in enumerate(order)}

    def ordered(keys: set[str]) -> tuple[str, ...]:
        return tuple(sorted(keys, key=lambda k: (rank.get(k, len(rank)), k)))

    sources = ordered({a for a, _b, _n in flows})
    targets = ordered({b for _a, b, _n in flows})
    left = {k: i for i, k in enumerate(sources)}
    right = {k: i for i, k in enumerate(targets)}
    return SankeyFlows(sources=sources, targets=targets,
                       links=tuple((left[a], right[b], n) for a, b, n in flows))


def movement_sankey(transitions: Sequence[Sequence[Any]], names: Mapping[str, str]) -> Figure | None:
    flows = sankey_flows(transitions, list(RFM_SEGMENTS))
    if flows is None:
        return None
    offset = len(flows.sources)
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(
        [*flows.sources, *flows.targets]))}
    labels = ([label(_("%(segment)s (before)") % {"segment": names.get(k, k)}) for k in flows.sources]
              + [label(names.get(k, k)) for k in flows.targets])
    return {
        "data": [{
            "type": "sankey",
            "node": {"label": labels, "pad": 12,
                     "color": [colour[k] for k in (*flows.sources, *flows.targets)]},
            "link": {"source": [s for s, _t, _n in flows.links],
                     "target": [offset + t for _s, t, _n in flows.links],
                     "value": [n for _s, _t, n in flows.links]},
        }],
        "layout": _layout(_("How customers moved between RFM segments since the previous run"),
                          height=520),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleBar:
    """One basket rule as the rules chart needs it: product names and its measures."""

    antecedents: tuple[str, ...]
    consequents: tuple[str, ...]
    lift: float
    confidence: float
    support: float
    orders: int


def rules_ranked(rules: Sequence[RuleBar], *, limit: int = 15) -> Figure | None:
    """The strongest rules, any size, ranked by lift: one bar each, its confidence and
    support written beside it. (A product × product heatmap could only show pairs
    and was mostly empty.)"""
    ranked = sorted(rules, key=lambda r: (-r.lift, -r.confidence, -r.support))[:limit]
    if not ranked:
        return None
    ranked.reverse()  # plotly draws the first category at the bottom
    names: list[str] = []
    for rule in ranked:
        name = (" + ".join(label(p) for p in rule.antecedents) + " → "
                + " + ".join(label(p) for p in rule.consequents))
        # Equal names would merge into one bar.
        copies = sum(1 for n in names if n == name or n.startswith(f"{name} ("))
        names.append(f"{name} ({copies + 1})" if copies else name)
    text = [ngettext("confidence %(confidence)s · support %(support)s · %(orders)s order",
                     "confidence %(confidence)s · support %(support)s · %(orders)s orders",
                     r.orders) % {
        "confidence": percent(r.confidence), "support": f"{100 * r.support:.1f}%",
        "orders": f"{r.orders:,}"} for r in ranked]
    return {
        "data": [{"type": "bar", "orientation": "h", "x": [round(r.lift, 2) for r in ranked],
                  "y": names, "text": text, "textposition": "auto",
                  "hovertemplate": "%{y}<br>" + _("lift") + " %{x}<br>%{text}<extra></extra>",
                  "marker": {"color": PALETTE[3]}}],
        "layout": _layout(_("Strongest rules: who bought the left also bought the right, by lift"),
                          height=max(300, 30 * len(ranked) + 120),
                          margin={"l": 20, "r": 20, "t": 40, "b": 50},
                          xaxis={"title": {"text": _("lift (times more often than by chance)")}},
                          yaxis={"automargin": True}),
    }
