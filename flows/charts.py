"""Plotly figure builders for flow pages (data in, figure dict out)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from flows.selectors import WeekRow


def weeks_chart(weeks: Sequence[WeekRow], currency: str = "") -> dict | None:
    """Revenue per entrant of both groups, cumulative by entry week (None with no weeks)."""
    if not weeks:
        return None
    x = [w.week.isoformat() for w in weeks]
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
         "y": [float(getattr(w, group).revenue_per_entrant) for w in weeks],
         "line": {"color": colour}}
        for name, group, colour in ((gettext("Emailed group"), "treated", "#1a5fb4"),
                                    (gettext("Held out"), "holdout", "#9a9996"))
    ]
    y_title = " ".join(filter(None, [gettext("Revenue per entrant"), currency]))
    layout = {
        "xaxis": {"title": {"text": gettext("Entered up to the week of")}, "type": "category"},
        "yaxis": {"title": {"text": y_title},
                  "rangemode": "tozero", "tickformat": ",.2f"},
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50}, "height": 300,
        "legend": {"orientation": "h"},
    }
    return {"data": data, "layout": layout}
