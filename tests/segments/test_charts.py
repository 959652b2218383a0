import json
import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.utils import translation

from segments import charts


def _lightness(colour: str) -> float:
    colour = colour.strip()
    if colour.startswith("#"):
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _colour_at_zero_and_max(trace) -> tuple[float, float]:
    # A named plotly.js scale ("Blues") runs dark → light: only an explicit scale says
    # which end zero gets.
    scale = trace["colorscale"]
    assert isinstance(scale, list), scale
    assert trace["zmin"] == 0
    return _lightness(scale[0][1]), _lightness(scale[-1][1])


# ------------------------------------------------------------------ heatmaps

def test_the_rfm_heatmap_colours_zero_lightest_and_the_biggest_cell_darkest():
    cells = [{"r_score": 5, "f_score": 5, "customers": 40, "revenue": 900},
             {"r_score": 1, "f_score": 1, "customers": 3, "revenue": 10}]

    trace = charts.rfm_heatmap(cells, currency="EUR")["data"][0]

    zero, top = _colour_at_zero_and_max(trace)
    assert zero > top + 100
    assert trace["zmax"] == 40


def test_the_rfm_heatmap_writes_revenue_as_money():
    cells = [{"r_score": 2, "f_score": 3, "customers": 1234, "revenue": 5678.4}]

    with translation.override("en"):
        trace = charts.rfm_heatmap(cells, currency="EUR")["data"][0]

    assert "1,234" in trace["text"][1][2] and "€5,678" in trace["text"][1][2]


def test_an_all_zero_confusion_matrix_still_has_a_scale_that_starts_at_zero():
    trace = charts.confusion_heatmap(["a", "b"], [[0, 0], [0, 0]], {})["data"][0]

    zero, top = _colour_at_zero_and_max(trace)
    assert zero > top and trace["zmax"] >= 1


def test_the_confusion_matrix_colours_zero_lightest_and_keeps_full_names_in_room():
    names = {"a": "Loyal, frequent big spenders", "b": "At risk, once frequent"}

    figure = charts.confusion_heatmap(["a", "b"], [[9, 0], [2, 5]], names)

    trace = figure["data"][0]
    zero, top = _colour_at_zero_and_max(trace)
    assert zero > top + 100 and trace["zmax"] == 9
    assert trace["x"] == trace["y"] == ["Loyal, frequent big spenders", "At risk, once frequent"]
    for axis in ("xaxis", "yaxis"):
        # automargin makes room for the axis title only when it has a standoff
        assert figure["layout"][axis]["automargin"] is True
        assert figure["layout"][axis]["title"]["standoff"] > 0


# ------------------------------------------------------------------ sankey

ORDER = ["champions", "loyal", "at_risk", "lost"]


def test_the_sankey_keeps_only_segments_with_a_flow_on_each_side():
    transitions = [("champions", "loyal", 5), ("loyal", "loyal", 7), ("at_risk", "lost", 0)]

    flows = charts.sankey_flows(transitions, ORDER)

    assert flows.sources == ("champions", "loyal")
    assert flows.targets == ("loyal",)
    assert flows.links == ((0, 0, 5), (1, 0, 7))


def test_the_sankey_has_nothing_to_draw_when_nobody_moved():
    assert charts.sankey_flows([], ORDER) is None
    assert charts.sankey_flows([("loyal", "lost", 0)], ORDER) is None
    # Everyone stayed: no movement to show, the page says so instead.
    assert charts.sankey_flows([("loyal", "loyal", 12)], ORDER) is None
    assert charts.movement_sankey([("loyal", "loyal", 12)], {}) is None


def test_segments_unknown_to_the_order_go_last_in_a_stable_order():
    flows = charts.sankey_flows([("zeta", "loyal", 1), ("alpha", "champions", 1)], ORDER)

    assert flows.sources == ("alpha", "zeta")
    assert flows.targets == ("champions", "loyal")


def test_every_drawn_sankey_node_has_a_flow():
    figure = charts.movement_sankey([("champions", "loyal", 5), ("lost", "lost", 0),
                                     ("at_risk", "champions", 2)], {"loyal": "Loyal"})

    trace = figure["data"][0]
    used = set(trace["link"]["source"]) | set(trace["link"]["target"])
    assert used == set(range(len(trace["node"]["label"])))


# ------------------------------------------------------------------ revenue

def _month(month: str, revenue: float = 100.0, orders: int = 1) -> dict:
    return {"month": month, "revenue": revenue, "orders": orders, "new_revenue": revenue,
            "returning_revenue": 0.0}


def test_a_stray_old_order_years_before_the_shop_is_left_out_and_said():
    months = [_month("1998-05", 12.5)] + [_month(f"2025-{m:02d}") for m in range(1, 13)]

    period = charts.revenue_period(months)

    assert [m["month"] for m in period.shown] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert len(period.left_out) == 1
    span = period.left_out[0]
    assert (span.first, span.last, span.orders, span.revenue) == ("1998-05", "1998-05", 1, 12.5)


def test_a_year_without_orders_is_a_quiet_year_not_a_gap():
    months = [_month("2023-01"), _month("2024-01")]  # eleven empty months between

    assert charts.revenue_period(months).left_out == ()


def test_more_than_a_year_without_orders_splits_and_the_bigger_period_is_shown():
    months = [_month("2020-01", orders=50), _month("2020-02", orders=50), _month("2022-06", orders=3)]

    period = charts.revenue_period(months)

    assert [m["month"] for m in period.shown] == ["2020-01", "2020-02"]
    assert [(s.first, s.last, s.orders) for s in period.left_out] == [("2022-06", "2022-06", 3)]


def test_periods_with_as_many_orders_show_the_most_recent():
    months = [_month("2010-03", orders=4), _month("2020-03", orders=4)]

    period = charts.revenue_period(months)

    assert [m["month"] for m in period.shown] == ["2020-03"]
    assert [s.first for s in period.left_out] == ["2010-03"]


@pytest.mark.parametrize("months", [[], [_month("2024-02", 0.0, 1)]])
def test_no_months_or_one_month_shows_what_there_is(months):
    period = charts.revenue_period(months)

    assert period.shown == months and period.left_out == ()


def test_months_arrive_in_any_order():
    months = [_month("2025-02"), _month("1999-01"), _month("2025-01")]

    assert [m["month"] for m in charts.revenue_period(months).shown] == ["2025-01", "2025-02"]


@pytest.mark.parametrize(("last", "newest", "partial"), [
    ("2026-12", date(2026, 12, 7), date(2026, 12, 7)),  # read a week into December
    ("2026-12", date(2026, 12, 31), None),  # the month's last day: a whole month
    ("2026-11", date(2026, 11, 30), None),
    ("2027-02", date(2027, 2, 28), None),
    ("2028-02", date(2028, 2, 28), date(2028, 2, 28)),  # a leap year's February has a 29th
    ("2025-12", date(2026, 1, 3), None),  # the newest order is not in the months shown
])
def test_the_last_month_is_partial_only_when_the_data_stops_before_its_end(last, newest, partial):
    assert charts.partial_last_month([_month("2025-06"), _month(last)], newest) == partial


def test_a_partial_last_month_is_hatched_and_the_whole_months_are_not():
    months = [_month("2026-10"), _month("2026-11"), _month("2026-12")]

    hatched = charts.revenue_over_time(months, "EUR", partial_to=date(2026, 12, 7))["data"]
    whole = charts.revenue_over_time(months, "EUR")["data"]

    assert [t["marker"]["pattern"]["shape"] for t in hatched] == [["", "", "/"]] * 2
    assert all("pattern" not in t["marker"] for t in whole)


def test_the_revenue_chart_names_both_axes_in_chinese():
    with translation.override("zh-hans"):
        layout = charts.revenue_over_time([_month("2025-01")], "EUR")["layout"]

    assert layout["xaxis"]["title"]["text"] == "月份"
    # plotly.js writes month names in English: Chinese ticks are written with numbers
    assert layout["xaxis"]["tickformat"] == layout["xaxis"]["hoverformat"] == "%Y年%-m月"
    assert layout["yaxis"]["tickformat"] == ",.0f"
    assert layout["yaxis"]["title"]["text"] == "销售额 EUR"


# ------------------------------------------------------------------ rules

def _rule(a, c, lift, confidence=0.5, support=0.01, orders=10):
    return charts.RuleBar(antecedents=tuple(a), consequents=tuple(c), lift=lift,
                          confidence=confidence, support=support, orders=orders)


def test_the_rules_chart_ranks_rules_by_lift_with_three_item_rules_among_them():
    rules = [_rule(["Beans"], ["Filter"], 2.0), _rule(["Beans", "Mill"], ["Filter"], 6.5),
             _rule(["Tea"], ["Honey"], 4.0)]

    figure = charts.rules_ranked(rules)

    trace = figure["data"][0]
    assert trace["type"] == "bar" and trace["orientation"] == "h"
    # plotly draws the first category at the bottom: the strongest goes last.
    assert trace["y"][-1] == "Beans + Mill → Filter"
    assert trace["x"] == [2.0, 4.0, 6.5]
    assert figure["layout"]["yaxis"]["automargin"] is True


def test_the_rules_chart_shows_confidence_and_support_beside_each_bar():
    with translation.override("en"):
        trace = charts.rules_ranked([_rule(["A"], ["B"], 3.0, confidence=0.456, support=0.0123)])["data"][0]

    assert "46%" in trace["text"][0] and "1.2%" in trace["text"][0]


def test_rules_with_equal_lift_keep_the_stronger_confidence_first_and_a_limit_holds():
    rules = [_rule(["A"], ["B"], 3.0, confidence=0.2), _rule(["C"], ["D"], 3.0, confidence=0.9),
             *(_rule([f"x{i}"], ["y"], 1.0 + i / 100) for i in range(30))]

    trace = charts.rules_ranked(rules, limit=5)["data"][0]

    assert len(trace["y"]) == 5
    assert trace["y"][-2:] == ["A → B", "C → D"]


def test_no_rules_draw_no_chart():
    assert charts.rules_ranked([]) is None


def test_two_rules_with_the_same_products_stay_two_bars():
    # plotly merges equal category names into one bar.
    trace = charts.rules_ranked([_rule(["A"], ["B"], 2.0), _rule(["A"], ["B"], 3.0)])["data"][0]

    assert len(set(trace["y"])) == 2


def test_product_names_in_the_rules_chart_are_escaped():
    trace = charts.rules_ranked([_rule(['<a href="x">A</a>'], ["<b>B</b>"], 2.0)])["data"][0]

    assert "<a" not in json.dumps(trace) and "<b>" not in json.dumps(trace)


def test_one_customer_in_a_cell_and_one_order_behind_a_rule_are_singular():
    with translation.override("en"):
        cell = charts.rfm_heatmap([{"r_score": 1, "f_score": 1, "customers": 1, "revenue": 5}],
                                  currency="EUR")["data"][0]["text"][0][0]
        bar = charts.rules_ranked([_rule(["A"], ["B"], 2.0, orders=1)])["data"][0]["text"][0]

    assert cell.startswith("1 customer<br>") and bar.endswith("· 1 order")


CJK = re.compile(r"[\u4e00-\u9fff]")


def _figures_with_axes():
    segment = SimpleNamespace(display_name="Champions", share=0.5, revenue_share=0.4)
    return {
        "revenue": charts.revenue_over_time([_month("2025-01")], "EUR"),
        "segments": charts.segment_bars([segment], "t"),
        "rfm": charts.rfm_heatmap([], currency="EUR"),
        "silhouette": charts.silhouette_curve({"silhouette": {"3": 0.3}}, 3),
        "confusion": charts.confusion_heatmap(["a"], [[1]], {}),
        "importance": charts.feature_importances({"recency_days": 0.7}),
        "holdout": charts.holdout_plot({"days": 90, "by_frequency": {"frequency": [0, 1], "actual": [1, 2],
                                                                      "predicted": [1, 2]}}),
        "roc": charts.roc_curve([0, 1], [0, 1], 0.7),
        "rules": charts.rules_ranked([_rule(["A"], ["B"], 2.0)]),
    }


def test_every_chart_names_both_axes_in_chinese():
    with translation.override("zh-hans"):
        figures = _figures_with_axes()

    untitled = [f"{name} {axis}" for name, figure in figures.items() for axis in ("xaxis", "yaxis")
                # the rules and the measures are the y labels themselves
                if axis != "yaxis" or name not in {"rules", "importance"}
                if not CJK.search(figure["layout"].get(axis, {}).get("title", {}).get("text", ""))]
    assert untitled == []


def test_a_legend_under_an_x_axis_title_is_drawn_below_it_with_room_for_both():
    checked = []
    for name, figure in _figures_with_axes().items():
        layout = figure["layout"]
        if len(figure["data"]) < 2 or not layout.get("xaxis", {}).get("title"):
            continue  # plotly.js draws a legend for two traces or more
        legend = layout["legend"]
        # at the foot of the figure, in a bottom margin tall enough for ticks, the
        # axis title and one row of legend
        assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0, "bottom"), name
        assert layout["margin"]["b"] >= 80, name
        checked.append(name)
    assert {"revenue", "segments", "holdout"} <= set(checked)


def test_the_holdout_chart_keeps_its_open_ended_last_bar_as_a_category():
    figure = charts.holdout_plot({"days": 90, "by_frequency": {
        "frequency": [0, 1, 2], "actual": [1, 2, 3], "predicted": [1, 2, 3]}})

    assert figure["data"][0]["x"] == ["0", "1", "2+"]
    # on a numeric axis plotly.js would read "2+" as the number 2
    assert figure["layout"]["xaxis"]["type"] == "category"
