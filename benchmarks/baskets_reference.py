"""Baseline for the basket-rules benchmark: plain mlxtend, as a user would run it.

The benchmark compares ``segments.analysis.baskets.mine_rules`` against this on the
same baskets in memory. The baseline builds the full one-hot of every product with
``mlxtend.preprocessing.TransactionEncoder`` (dense bool: baskets × products bytes, about
4.6 GB for 155k baskets × 30k products, which is the point being measured), then runs
``fpgrowth`` and ``association_rules``. It applies the same purchase filter as
``mine_rules`` (quantity > 0, one count per product per order) so both mine the same
baskets. Timing covers everything from the long frame to the rules frame, as does the
timing of ``mine_rules``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from segments.analysis.baskets import clean_basket_lines


@dataclass(frozen=True, kw_only=True, slots=True)
class BaselineRun:
    """Wall-clock seconds of one plain-mlxtend run and what it found."""

    seconds: float
    encode_seconds: float
    mine_seconds: float
    rules_seconds: float
    basket_count: int
    item_count: int
    itemset_count: int
    rule_count: int


def mlxtend_baseline(
    baskets_long_df: pd.DataFrame,
    min_support: float,
    min_confidence: float,
    max_len: int | None,
) -> BaselineRun:
    """Plain mlxtend fpgrowth + association_rules on the full dense one-hot."""
    started = time.perf_counter()
    lines = clean_basket_lines(baskets_long_df)
    transactions = lines.groupby("order_id", sort=False)["product_id"].agg(list).tolist()
    encoder = TransactionEncoder()
    one_hot = pd.DataFrame(
        encoder.fit(transactions).transform(transactions), columns=encoder.columns_
    )
    encoded = time.perf_counter()

    itemsets = fpgrowth(one_hot, min_support=min_support, max_len=max_len)
    mined = time.perf_counter()

    rule_count = 0
    if len(itemsets):  # association_rules refuses an empty itemsets frame
        rules = association_rules(
            itemsets, num_itemsets=len(one_hot), metric="confidence", min_threshold=min_confidence
        )
        rule_count = len(rules)
    finished = time.perf_counter()

    return BaselineRun(
        seconds=finished - started,
        encode_seconds=encoded - started,
        mine_seconds=mined - encoded,
        rules_seconds=finished - mined,
        basket_count=len(one_hot),
        item_count=one_hot.shape[1],
        itemset_count=len(itemsets),
        rule_count=rule_count,
    )
