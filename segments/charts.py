"""Plotly figures as plain dicts (data in, figure out), drawn by plotly.js in the page.

Plain dicts instead of plotly.graph_objects: validation of a 20k-point figure costs
more than the rest of the page, and the page only needs the JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from segments.analysis.rfm import RFM_SEGMENTS

Figure = dict[str, Any]

PALETTE = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#ea580c", "#4f46e5", "#0d9488", "#9333ea",
]


def _layout(title: str = "", **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 15}} if title else None,
        "margin": {"l": 60, "r": 20, "t": 40 if title else 10, "b": 50},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(extra)
    return {k: v for k, v in layout.items() if v is not None}


def revenue_over_time(months: Sequence[Mapping[str, Any]], currency: str = "") -> Figure:
    x = [m["month"] for m in months]
    return {
        "data": [
            {"type": "bar", "name": "New customers", "x": x,
             "y": [round(m["new_revenue"], 2) for m in months], "marker": {"color": PALETTE[2]}},
            {"type": "bar", "name": "Returning customers", "x": x,
             "y": [round(m["returning_revenue"], 2) for m in months],
             "marker": {"color": PALETTE[0]}},
        ],
        "layout": _layout("Revenue per month: new vs returning customers", barmode="stack",
                          yaxis={"title": {"text": f"Revenue {currency}".strip()}}),
    }


def segment_bars(segments: Sequence[Any], title: str) -> Figure:
    names = [s.display_name for s in segments]
    return {
        "data": [
            {"type": "bar", "name": "Share of customers", "x": names,
             "y": [round(100 * s.share, 1) for s in segments], "marker": {"color": PALETTE[0]}},
            {"type": "bar", "name": "Share of revenue", "x": names,
             "y": [round(100 * s.revenue_share, 1) for s in segments],
             "marker": {"color": PALETTE[3]}},
        ],
        "layout": _layout(title, barmode="group", yaxis={"title": {"text": "%"}}),
    }


def customer_scatter(
    points: Sequence[tuple[float, float, str, str, int]], *, color_by: str,
    names: Mapping[str, str], highlight: str | None = None, total: int | None = None,
) -> Figure:
    """Log recency vs log spend, one WebGL trace per segment."""
    position = 2 if color_by == "rfm" else 3
    groups: dict[str, list[tuple[float, float, int]]] = {}
    for row in points:
        groups.setdefault(row[position], []).append((row[0], row[1], row[4]))
    traces = []
    for i, (key, rows) in enumerate(sorted(groups.items(), key=lambda kv: -len(kv[1]))):
        dim = highlight is not None and key != highlight
        traces.append({
            "type": "scattergl", "mode": "markers", "name": names.get(key, key),
            "x": [round(max(r[0], 0) + 1, 2) for r in rows],
            "y": [round(max(r[1], 0) + 1, 2) for r in rows],
            "customdata": [r[2] for r in rows],
            "hovertemplate": "last order %{x:.0f} days ago<br>spend %{y:,.0f}<extra>%{fullData.name}</extra>",
            "marker": {"size": 5, "color": PALETTE[i % len(PALETTE)],
                       "opacity": 0.15 if dim else 0.7},
        })
    title = "Customers: days since last order vs total spend (log scales)"
    if total and total > len(points):
        title += f" — random sample of {len(points):,} of {total:,}"
    return {
        "data": traces,
        "layout": _layout(title, height=460,
                          xaxis={"type": "log", "title": {"text": "days since last order + 1"}},
                          yaxis={"type": "log", "title": {"text": "total spend + 1"}}),
    }


def rfm_heatmap(cells: Iterable[Mapping[str, Any]]) -> Figure:
    counts = [[0] * 5 for _ in range(5)]
    revenue = [[0.0] * 5 for _ in range(5)]
    for c in cells:
        counts[c["r_score"] - 1][c["f_score"] - 1] = c["customers"]
        revenue[c["r_score"] - 1][c["f_score"] - 1] = float(c["revenue"] or 0)
    text = [[f"{counts[r][f]:,} customers<br>{revenue[r][f]:,.0f} revenue" for f in range(5)]
            for r in range(5)]
    return {
        "data": [{
            "type": "heatmap", "z": counts, "x": [1, 2, 3, 4, 5], "y": [1, 2, 3, 4, 5],
            "text": text, "texttemplate": "%{text}", "hovertemplate": "R=%{y} F=%{x}<br>%{text}<extra></extra>",
            "colorscale": "Blues", "colorbar": {"title": {"text": "customers"}},
        }],
        "layout": _layout("Customers by recency (R) and frequency (F) score — click a cell",
                          height=480, xaxis={"title": {"text": "F score (5 = most orders)"}, "dtick": 1},
                          yaxis={"title": {"text": "R score (5 = most recent)"}, "dtick": 1}),
    }


def silhouette_curve(curve: Mapping[str, Any], chosen: int | None) -> Figure:
    silhouette = curve.get("silhouette", {})
    ks = sorted(int(k) for k in silhouette)
    shares = curve.get("smallest_share", {})
    return {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "name": "silhouette", "x": ks,
             "y": [silhouette[str(k)] for k in ks],
             "text": [f"smallest cluster {100 * shares.get(str(k), 0):.1f}%" for k in ks]},
        ] + ([{"type": "scatter", "mode": "markers", "name": f"chosen k={chosen}",
               "x": [chosen], "y": [silhouette[str(chosen)]],
               "marker": {"size": 14, "color": PALETTE[1], "symbol": "star"}}]
             if chosen and str(chosen) in silhouette else []),
        "layout": _layout("Silhouette by number of clusters (higher = better separated)",
                          xaxis={"title": {"text": "k"}, "dtick": 1},
                          yaxis={"title": {"text": "silhouette"}}),
    }


def confusion_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]],
                      names: Mapping[str, str]) -> Figure:
    shown = [names.get(label, label) for label in labels]
    return {
        "data": [{"type": "heatmap", "z": list(matrix), "x": shown, "y": shown,
                  "texttemplate": "%{z}", "colorscale": "Blues", "showscale": False}],
        "layout": _layout("Confusion matrix on held-out customers", height=380,
                          xaxis={"title": {"text": "predicted"}},
                          yaxis={"title": {"text": "actual"}, "autorange": "reversed"}),
    }


def feature_importances(importances: Mapping[str, float]) -> Figure:
    ranked = sorted(importances.items(), key=lambda kv: kv[1])
    return {
        "data": [{"type": "bar", "orientation": "h", "x": [round(v, 4) for _, v in ranked],
                  "y": [k.replace("_", " ") for k, _ in ranked], "marker": {"color": PALETTE[0]}}],
        "layout": _layout("What defines the clusters (random forest importance)",
                          margin={"l": 180, "r": 20, "t": 40, "b": 40}),
    }


def holdout_plot(holdout: Mapping[str, Any]) -> Figure:
    by = holdout.get("by_frequency", {})
    x = [str(int(f)) for f in by.get("frequency", [])]
    if x:
        x[-1] = x[-1] + "+"
    return {
        "data": [
            {"type": "bar", "name": "predicted (BG/NBD)", "x": x, "y": by.get("predicted", [])},
            {"type": "bar", "name": "actual", "x": x, "y": by.get("actual", [])},
        ],
        "layout": _layout(f"Holdout check: purchases in the last {holdout.get('days', '?')} days",
                          barmode="group",
                          xaxis={"title": {"text": "repeat purchases before the holdout"}},
                          yaxis={"title": {"text": "mean purchases per customer"}}),
    }


def roc_curve(fpr: Sequence[float], tpr: Sequence[float], auc: float) -> Figure:
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "name": f"model (AUC {auc:.2f})", "x": list(fpr),
             "y": list(tpr)},
            {"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [0, 1],
             "line": {"dash": "dot", "color": "#999"}},
        ],
        "layout": _layout("Propensity ROC on the evaluation period",
                          xaxis={"title": {"text": "false positive rate"}},
                          yaxis={"title": {"text": "true positive rate"}}),
    }


def movement_sankey(transitions: Sequence[Sequence[Any]], names: Mapping[str, str]) -> Figure:
    keys = sorted({t[0] for t in transitions} | {t[1] for t in transitions},
                  key=lambda k: list(RFM_SEGMENTS).index(k) if k in RFM_SEGMENTS else 99)
    left = {k: i for i, k in enumerate(keys)}
    right = {k: len(keys) + i for i, k in enumerate(keys)}
    labels = [f"{names.get(k, k)} (before)" for k in keys] + [names.get(k, k) for k in keys]
    return {
        "data": [{
            "type": "sankey",
            "node": {"label": labels, "pad": 12,
                     "color": [PALETTE[i % len(PALETTE)] for i in range(len(keys))] * 2},
            "link": {"source": [left[a] for a, _, _ in transitions],
                     "target": [right[b] for _, b, _ in transitions],
                     "value": [n for _, _, n in transitions]},
        }],
        "layout": _layout("How customers moved between RFM segments since the previous run",
                          height=520),
    }


def rules_heatmap(pairs: Sequence[tuple[str, str, float]]) -> Figure:
    """Lift of the strongest single-product rules: antecedent rows × consequent columns."""
    antecedents = list(dict.fromkeys(a for a, _, _ in pairs))
    consequents = list(dict.fromkeys(c for _, c, _ in pairs))
    z: list[list[float | None]] = [[None] * len(consequents) for _ in antecedents]
    for a, c, lift in pairs:
        z[antecedents.index(a)][consequents.index(c)] = round(lift, 2)
    return {
        "data": [{"type": "heatmap", "z": z, "x": consequents, "y": antecedents,
                  "colorscale": "YlOrRd", "texttemplate": "%{z}", "hoverongaps": False,
                  "colorbar": {"title": {"text": "lift"}}}],
        "layout": _layout("Strongest rules: who bought (row) also bought (column), by lift",
                          height=max(360, 28 * len(antecedents) + 160),
                          margin={"l": 220, "r": 20, "t": 40, "b": 160},
                          yaxis={"autorange": "reversed"}),
    }


def safe_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
