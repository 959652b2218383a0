import json
from types import SimpleNamespace

from segments import charts

EVIL = '<a href="https://evil.example/">Click</a><b>x</b>'


def _drawn_text(figure) -> str:
    return json.dumps(figure)


def test_segment_names_from_the_data_reach_plotly_escaped():
    segment = SimpleNamespace(display_name=EVIL, share=0.5, revenue_share=0.4)

    figure = charts.segment_bars([segment], "t")

    assert "<a" not in _drawn_text(figure) and "<b>" not in _drawn_text(figure)
    assert figure["data"][0]["x"] == [('&lt;a href="https://evil.example/"&gt;Click&lt;/a&gt;'
                                       "&lt;b&gt;x&lt;/b&gt;")]


def test_product_names_in_the_rules_chart_are_escaped():
    figure = charts.rules_ranked([charts.RuleBar(antecedents=(EVIL,), consequents=("Beans & <i>Cups</i>",),
                                                 lift=2.5, confidence=0.5, support=0.1, orders=3)])

    assert "<a" not in _drawn_text(figure) and "<i>" not in _drawn_text(figure)
    assert figure["data"][0]["x"] == [2.5]


def test_names_in_the_sankey_the_confusion_matrix_and_the_scatter_legend_are_escaped():
    names = {"k1": EVIL, "k2": "plain"}
    group = charts.ScatterGroup(key="k1", count=1, x_json="[1]", y_json="[1]", ids_json="[7]")

    figures = [charts.movement_sankey([("k1", "k2", 3)], names),
               charts.confusion_heatmap(["k1", "k2"], [[1, 0], [0, 1]], names),
               json.loads(str(charts.customer_scatter_script("s", [group], names=names))
                          .split(">", 1)[1].rsplit("<", 1)[0])]

    for figure in figures:
        assert "<a" not in _drawn_text(figure), figure
