import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from segments.analysis.baskets import (
    CONVICTION_CERTAIN,
    ITEMSET_COLUMNS,
    RULE_COLUMNS,
    RuleMiningResult,
    SkippedSegment,
    TooManyItemsetsError,
    choose_min_support,
    min_count_for_support,
    mine_rules,
    mine_rules_per_segment,
)
from segments.computed_text import rule_sentence

ONLINE_RETAIL = Path(__file__).parents[2] / "data" / "online_retail_baskets.txt"


def baskets_frame(baskets: list[list[int]], first_order_id: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (order_id, product_id)
            for order_id, basket in enumerate(baskets, start=first_order_id)
            for product_id in basket
        ],
        columns=["order_id", "product_id"],
    )


@cache
def online_retail_baskets() -> tuple[tuple[str, ...], ...]:
    lines = ONLINE_RETAIL.read_text().splitlines()
    return tuple(tuple(line.split(",")) for line in lines if line.strip())


@cache
def online_retail_ids() -> dict[str, int]:
    codes = sorted({code for basket in online_retail_baskets() for code in basket})
    return {code: product_id for product_id, code in enumerate(codes, start=1000)}


@cache
def online_retail() -> pd.DataFrame:
    ids = online_retail_ids()
    return baskets_frame([[ids[c] for c in basket] for basket in online_retail_baskets()])


@cache
def online_retail_one_hot() -> pd.DataFrame:
    baskets = [list(b) for b in online_retail_baskets()]
    encoder = TransactionEncoder()
    return pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)


@cache
def reference_itemsets(min_support: float) -> dict[frozenset[int], float]:
    # Plain mlxtend on the full, unpruned dense one-hot: what we must reproduce exactly.
    # apriori is the independent algorithm; at 0.5% it needs minutes, so that level uses
    # mlxtend's fpgrowth, still on the unpruned matrix.
    one_hot = online_retail_one_hot()
    if min_support >= 0.01:
        found = apriori(one_hot, min_support=min_support, use_colnames=True, low_memory=True)
    else:
        found = fpgrowth(one_hot, min_support=min_support, use_colnames=True)
    ids = online_retail_ids()
    return {
        frozenset(ids[c] for c in itemset): support
        for itemset, support in zip(found["itemsets"], found["support"], strict=True)
    }


def as_dict(result: RuleMiningResult) -> dict[frozenset[int], float]:
    return dict(zip(map(frozenset, result.itemsets["itemset"]), result.itemsets["support"]))


# ---------------------------------------------------------------- reference equality


@pytest.mark.parametrize(
    ("min_support", "engine"),
    [(0.01, "sparse"), (0.005, "sparse"), (0.01, "mlxtend")],
)
def test_frequent_itemsets_equal_plain_mlxtend_on_online_retail(min_support, engine):
    expected = reference_itemsets(min_support)

    result = mine_rules(
        online_retail(), min_support=min_support, max_len=None, min_orders=1, engine=engine
    )

    found = as_dict(result)
    assert set(found) == set(expected)
    assert max(abs(found[s] - expected[s]) for s in expected) < 1e-12
    assert result.basket_count == 28_816
    assert result.item_count == 4_631


def test_rules_equal_mlxtend_association_rules_on_online_retail():
    itemsets = reference_itemsets(0.01)
    frame = pd.DataFrame({"itemsets": list(itemsets), "support": list(itemsets.values())})
    expected = association_rules(frame, num_itemsets=28_816, min_threshold=0.2)
    expected = {
        (frozenset(row.antecedents), frozenset(row.consequents)): row
        for row in expected.itertuples()
    }

    rules = mine_rules(online_retail(), min_support=0.01, max_len=None, min_confidence=0.2).rules

    assert len(rules) == len(expected) > 50
    for rule in rules.itertuples():
        reference = expected[(frozenset(rule.antecedents), frozenset(rule.consequents))]
        assert rule.support == pytest.approx(reference.support, abs=1e-12)
        assert rule.confidence == pytest.approx(reference.confidence, rel=1e-12)
        assert rule.lift == pytest.approx(reference.lift, rel=1e-12)
        assert rule.leverage == pytest.approx(reference.leverage, abs=1e-12)
        reference_conviction = (
            CONVICTION_CERTAIN if math.isinf(reference.conviction) else reference.conviction
        )
        assert rule.conviction == pytest.approx(reference_conviction, rel=1e-9)
        assert rule.order_count == round(reference.support * 28_816)


def test_max_len_keeps_exactly_the_reference_itemsets_that_short():
    expected = {s: v for s, v in reference_itemsets(0.01).items() if len(s) <= 2}

    result = mine_rules(online_retail(), min_support=0.01, max_len=2, min_orders=1)

    assert as_dict(result) == pytest.approx(expected, abs=1e-12)
    assert result.itemsets["length"].max() == 2


# ---------------------------------------------------------------- hand-made baskets

# Baskets {1,2} {1,2,3} {1,3} {2} {1,2}: product 1 in 4 orders, 2 in 4, 3 in 2,
# {1,2} in 3, {1,3} in 2, {2,3} in 1.
SMALL = [[1, 2], [1, 2, 3], [1, 3], [2], [1, 2]]


def test_small_baskets_give_the_itemsets_counted_by_hand():
    result = mine_rules(baskets_frame(SMALL), min_support=0.4, min_orders=1)

    assert result.itemsets[["itemset", "order_count"]].values.tolist() == [
        [(1,), 4],
        [(2,), 4],
        [(3,), 2],
        [(1, 2), 3],
        [(1, 3), 2],
    ]
    assert result.itemsets["support"].tolist() == [0.8, 0.8, 0.4, 0.6, 0.4]


@pytest.mark.parametrize(
    ("antecedents", "consequents", "confidence", "lift", "leverage", "conviction", "orders"),
    [
        ((3,), (1,), 1.0, 1.25, 0.08, CONVICTION_CERTAIN, 2),
        ((1,), (2,), 0.75, 0.9375, -0.04, 0.8, 3),
        ((2,), (1,), 0.75, 0.9375, -0.04, 0.8, 3),
    ],
)
def test_small_baskets_give_the_rules_computed_by_hand(
    antecedents, consequents, confidence, lift, leverage, conviction, orders
):
    rules = mine_rules(
        baskets_frame(SMALL), min_support=0.4, min_confidence=0.6, min_orders=1
    ).rules
    by_key = {(r["antecedents"], r["consequents"]): r for _, r in rules.iterrows()}

    rule = by_key[(antecedents, consequents)]
    assert len(rules) == 3
    assert rule["confidence"] == pytest.approx(confidence)
    assert rule["lift"] == pytest.approx(lift)
    assert rule["leverage"] == pytest.approx(leverage)
    assert rule["conviction"] == pytest.approx(conviction)
    assert rule["order_count"] == orders


def test_rules_come_sorted_by_lift_then_confidence():
    rules = mine_rules(
        baskets_frame(SMALL), min_support=0.4, min_confidence=0.0, min_orders=1
    ).rules

    assert rules[["antecedents", "consequents"]].values.tolist() == [
        [(3,), (1,)],  # lift 1.25, confidence 1.0
        [(1,), (3,)],  # lift 1.25, confidence 0.5
        [(1,), (2,)],  # lift 0.9375, confidence 0.75, ties broken by antecedents
        [(2,), (1,)],
    ]


def test_support_keeps_baskets_emptied_by_pruning_in_the_denominator():
    # given 4 orders of {1,2} and 6 orders of products nobody else buys
    baskets = [[1, 2]] * 4 + [[10 + i] for i in range(6)]

    result = mine_rules(baskets_frame(baskets), min_support=0.2, min_orders=1)

    assert result.basket_count == 10
    assert result.frequent_item_count == 2
    assert as_dict(result) == {frozenset({1}): 0.4, frozenset({2}): 0.4, frozenset({1, 2}): 0.4}
    assert result.rules["lift"].tolist() == [2.5, 2.5]


def test_a_product_bought_twice_in_one_order_counts_once():
    lines = baskets_frame([[1, 1, 2], [1, 2, 2], [3]])

    result = mine_rules(lines, min_support=0.5, min_orders=1)

    assert as_dict(result)[frozenset({1, 2})] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- edge cases


def test_a_shop_with_one_product_has_one_itemset_and_no_rules():
    result = mine_rules(baskets_frame([[7]] * 20), min_support=0.1)

    assert result.itemsets["itemset"].tolist() == [(7,)]
    assert result.itemsets["support"].tolist() == [1.0]
    assert result.rules.empty
    assert list(result.rules.columns) == RULE_COLUMNS


def test_single_item_baskets_give_itemsets_but_no_rules():
    baskets = [[product] for product in range(1, 6)] * 30

    result = mine_rules(baskets_frame(baskets))

    assert result.itemsets["length"].tolist() == [1] * 5
    assert result.rules.empty
    assert "only 0 rules" in result.support_choice.reason


def test_a_product_in_every_basket_gives_lift_one_and_certain_conviction():
    # product 1 in all 20 orders, product 2 in half of them
    baskets = [[1, 2]] * 10 + [[1]] * 10

    rules = mine_rules(baskets_frame(baskets), min_support=0.1, min_confidence=0.0).rules
    rules = rules.set_index(["antecedents", "consequents"])

    assert rules.loc[((2,), (1,)), "confidence"] == 1.0
    assert rules.loc[((2,), (1,)), "conviction"] == CONVICTION_CERTAIN
    assert rules.loc[((1,), (2,)), "confidence"] == 0.5
    assert rules.loc[((1,), (2,)), "conviction"] == pytest.approx(1.0)
    assert rules["lift"].tolist() == pytest.approx([1.0, 1.0])
    assert rules["leverage"].tolist() == pytest.approx([0.0, 0.0])
    assert np.isfinite(rules.select_dtypes("number").to_numpy()).all()


def test_returned_and_cancelled_lines_are_not_purchases():
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2, 2, 3, 3, 4],
            "product_id": [1, 2, 1, 2, 1, 3, 3],
            "quantity": [1, 2, 1, 1, 1, -1, 0],
        }
    )

    result = mine_rules(lines, min_support=0.1, min_orders=1)

    # order 4 held only a cancelled line: it is not a basket at all
    assert result.basket_count == 3
    assert result.item_count == 2
    assert 3 not in {p for itemset in result.itemsets["itemset"] for p in itemset}
    assert as_dict(result)[frozenset({1, 2})] == pytest.approx(2 / 3)


@pytest.mark.parametrize("min_support", [None, 0.1])
def test_empty_input_gives_empty_frames_with_the_usual_columns(min_support):
    lines = pd.DataFrame({"order_id": [], "product_id": [], "quantity": []})

    result = mine_rules(lines, min_support=min_support)

    assert result.basket_count == 0
    assert result.item_count == 0
    assert list(result.itemsets.columns) == ITEMSET_COLUMNS
    assert list(result.rules.columns) == RULE_COLUMNS
    assert result.itemsets.empty and result.rules.empty


def test_missing_columns_are_reported_by_name():
    with pytest.raises(ValueError, match="product_id"):
        mine_rules(pd.DataFrame({"order_id": [1]}), min_support=0.5)


def test_an_explicit_support_still_needs_min_orders_behind_each_itemset():
    baskets = [[1, 2]] * 8 + [[3]] * 92

    result = mine_rules(baskets_frame(baskets), min_support=0.01, min_orders=10)

    assert result.parameters.min_count == 10
    assert result.parameters.min_support == 0.01
    assert frozenset({1, 2}) not in as_dict(result)
    assert frozenset({3}) in as_dict(result)


def test_mining_stops_with_a_clear_error_before_itemsets_explode():
    with pytest.raises(TooManyItemsetsError, match="more than 100"):
        mine_rules(online_retail(), min_support=0.005, max_len=None, max_itemsets=100)


@pytest.mark.parametrize(
    ("min_support", "basket_count", "count"),
    [
        (0.07, 100, 7),  # 0.07 * 100 is 7.000000000000001 in floats
        (0.01, 28_816, 289),
        (0.5, 3, 2),
        (1.0, 5, 5),
        (1e-9, 10, 1),
    ],
)
def test_min_count_for_support_is_the_smallest_count_reaching_the_support(
    min_support, basket_count, count
):
    assert min_count_for_support(min_support, basket_count) == count
    assert count / basket_count >= min_support
    assert count == 1 or (count - 1) / basket_count < min_support


# ---------------------------------------------------------------- adaptive support


def test_adaptive_support_lands_within_the_target_on_online_retail():
    choice = choose_min_support(online_retail(), target_rules=(50, 2000), min_orders=10)

    assert 50 <= choice.rule_count <= 2000
    assert choice.min_count >= 10
    assert choice.min_count == min_count_for_support(choice.min_support, 28_816)
    assert "within the target" in choice.reason
    supports = [trial.min_support for trial in choice.trials]
    assert supports == sorted(supports, reverse=True)
    assert all(trial.rule_count < 50 for trial in choice.trials[:-1])


def test_adaptive_support_bisects_when_the_ladder_overshoots_a_narrow_target():
    # the default ladder gives 22 rules at 2% and 83 at 1.5%
    choice = choose_min_support(online_retail(), target_rules=(30, 40))

    assert 30 <= choice.rule_count <= 40
    assert 433 < choice.min_count < 577
    assert "between ladder steps" in choice.reason


def test_adaptive_support_stops_at_the_order_floor_when_rules_stay_few():
    baskets = [[1, 2]] * 12 + [[3, 4]] * 3 + [[5]] * 200

    choice = choose_min_support(baskets_frame(baskets), target_rules=(5, 100), min_orders=10)

    assert choice.min_count == 10
    assert choice.rule_count == 2
    assert "floor of 10 orders" in choice.reason


def test_mine_rules_without_a_support_records_the_choice_it_used():
    result = mine_rules(online_retail())

    assert result.support_choice is not None
    assert result.parameters.min_count == result.support_choice.min_count
    assert len(result.rules) == result.support_choice.rule_count


@pytest.mark.parametrize("max_len", [1, 2])
def test_owner_overrides_for_confidence_and_length_reach_the_search(max_len):
    choice = choose_min_support(online_retail(), min_confidence=0.5, max_len=max_len)

    assert choice.min_confidence == 0.5
    assert choice.max_len == max_len
    if max_len == 1:
        assert choice.rule_count == 0


# ---------------------------------------------------------------- per segment


def test_each_segment_is_mined_on_its_own_orders_and_small_ones_are_skipped():
    # given segment "loyal": 60 orders, {1,2} in 30 of them; "new": 10 orders
    loyal = [[1, 2]] * 30 + [[3]] * 30
    new = [[1, 2]] * 10
    lines = pd.concat([baskets_frame(loyal), baskets_frame(new, first_order_id=101)])
    segment = pd.Series(
        ["loyal"] * 60 + ["new"] * 10 + ["dormant"], index=[*range(1, 61), *range(101, 111), 999]
    )

    results = mine_rules_per_segment(lines, segment, min_support=0.1, min_orders=5)

    loyal_result = results["loyal"]
    assert isinstance(loyal_result, RuleMiningResult)
    assert loyal_result.basket_count == 60
    assert as_dict(loyal_result)[frozenset({1, 2})] == 0.5
    assert results["new"] == SkippedSegment(
        segment="new",
        basket_count=10,
        reason="only 10 orders with purchases; rules need at least 50",
    )
    assert isinstance(results["dormant"], SkippedSegment)
    assert results["dormant"].basket_count == 0


# ---------------------------------------------------------------- sentences
# (worded on the Django side, segments/computed_text.py, in the reader's language)

NAMES = {1: "Tea Pot", 2: "Tea Cups", 3: "Tea Strainer", 4: "Honey"}


@pytest.mark.parametrize(
    ("rule", "segment", "sentence"),
    [
        (
            {
                "antecedents": (1, 2),
                "consequents": (3,),
                "confidence": 0.62,
                "lift": 3.1,
                "order_count": 48,
            },
            None,
            (
                "Customers who bought Tea Pot and Tea Cups also bought Tea Strainer in 62% of "
                "their orders (3.1× more often than average; 48 orders)."
            ),
        ),
        (
            {
                "antecedents": (1,),
                "consequents": (3, 4),
                "confidence": 0.7,
                "lift": 2.0,
                "order_count": 12,
            },
            "At Risk",
            (
                "At Risk customers who bought Tea Pot usually buy Tea Strainer and Honey: 70% of "
                "their orders (2.0× more often than average; 12 orders)."
            ),
        ),
        (
            {
                "antecedents": (1,),
                "consequents": (4,),
                "confidence": 0.3,
                "lift": 1.02,
                "order_count": 1,
            },
            "Loyal",
            (
                "Loyal customers who bought Tea Pot also bought Honey in 30% of their orders "
                "(about as often as average; 1 order)."
            ),
        ),
        (
            {
                "antecedents": (1, 2, 4),
                "consequents": (99,),
                "confidence": 0.25,
                "lift": 0.5,
                "order_count": 7,
            },
            None,
            (
                "Customers who bought Tea Pot, Tea Cups and Honey also bought product 99 in 25% of "
                "their orders (0.5× as often as average; 7 orders)."
            ),
        ),
    ],
)
def test_rule_sentence_reads_as_plain_language(rule, segment, sentence):
    assert rule_sentence(rule, NAMES, segment_name=segment) == sentence


def test_rule_sentence_accepts_a_row_of_the_rules_frame():
    rules = mine_rules(
        baskets_frame(SMALL), min_support=0.4, min_confidence=0.9, min_orders=1
    ).rules

    assert rule_sentence(rules.iloc[0], NAMES) == (
        "Customers who bought Tea Strainer also bought Tea Pot in 100% of their orders "
        "(1.2× more often than average; 2 orders)."
    )
