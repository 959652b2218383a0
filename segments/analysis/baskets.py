"""Frequent itemsets and association rules over shop baskets ("bought together").

Input is a long frame of order lines: ``order_id``, ``product_id`` (ints) and optionally
``quantity``. One order is one basket; a product counts once per order however many
lines or units it has.

Memory is the constraint that shapes this module: a 1M-line shop has ~155k baskets and
tens of thousands of products, so a dense one-hot matrix (what mlxtend builds, even from
sparse input) would need gigabytes. We therefore

1. encode baskets as sparse row/column codes (CSR-style ``indptr``/``indices``),
2. drop every product bought in fewer orders than the minimum count *before* mining
   (no itemset containing an infrequent product can be frequent, so the itemsets are the
   same, and the matrix shrinks by orders of magnitude),
3. drop baskets left empty by that pruning, while keeping the ORIGINAL basket count as
   the support denominator,
4. mine by depth-first projection (Eclat/FP-growth style): the frequent extensions of a
   prefix are counted with ``np.bincount`` over the conditional database of the baskets
   that contain the prefix. Only frequent items ever enter a conditional database, and
   nothing dense is ever built. ``engine="mlxtend"`` instead runs mlxtend's ``fpgrowth`` on
   the pruned matrix made dense (fine once pruned, and a cross-check in the tests).

Supports are fractions of all baskets; every count behind them is exact (integers), and
``order_count`` says how many orders stand behind an itemset or rule.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd

# Conviction is (1 - support(C)) / (1 - confidence): infinite for rules that always hold.
# Infinity does not survive JSON, so certain rules get this finite stand-in instead. No
# finite conviction can reach it: 1 - confidence >= 1 / order_count(A) makes every finite
# conviction smaller than the number of baskets, and no shop has a billion orders.
CONVICTION_CERTAIN = 1e9

# Searched from the top: the first (highest) support giving enough rules wins, because
# higher support means rules backed by more orders and faster mining.
DEFAULT_SUPPORT_LADDER: tuple[float, ...] = (
    0.2, 0.1, 0.05, 0.03, 0.02, 0.015, 0.01, 0.0075, 0.005, 0.003, 0.002, 0.0015,
    0.001, 0.00075, 0.0005, 0.0003, 0.0002, 0.0001, 0.00005, 0.00002, 0.00001,
)  # fmt: skip

DEFAULT_TARGET_RULES = (50, 2000)
DEFAULT_MIN_ORDERS = 10
DEFAULT_MIN_CONFIDENCE = 0.2
DEFAULT_MAX_LEN = 3
# A guard against combinatorial blow-up (e.g. max_len=None on baskets that share many
# products): past this many itemsets mining stops with TooManyItemsetsError instead of
# exhausting the worker's memory.
DEFAULT_MAX_ITEMSETS = 300_000
# Segments with fewer orders than this give rules that are anecdotes, not patterns.
DEFAULT_MIN_SEGMENT_BASKETS = 50

Engine = Literal["sparse", "mlxtend"]

ITEMSET_COLUMNS = ["itemset", "length", "support", "order_count"]
RULE_COLUMNS = [
    "antecedents",
    "consequents",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "order_count",
]


class TooManyItemsetsError(ValueError):
    """Mining stopped because the support is too low for these baskets."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MiningParameters:
    """The thresholds a mining run actually used.

    ``min_count`` is what was applied: an itemset needs at least this many orders.
    It is the larger of the count implied by ``min_support`` and the ``min_orders`` floor.
    """

    min_support: float
    min_count: int
    min_orders: int
    min_confidence: float
    max_len: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SupportTrial:
    """One step of the adaptive support search."""

    min_support: float
    min_count: int
    itemset_count: int
    rule_count: int
    too_many_itemsets: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SupportChoice:
    """The minimum support picked for a set of baskets, and why."""

    min_support: float
    min_count: int
    min_orders: int
    min_confidence: float
    max_len: int | None
    basket_count: int
    rule_count: int
    target_rules: tuple[int, int]
    reason: str
    trials: tuple[SupportTrial, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleMiningResult:
    """Frequent itemsets and rules of one set of baskets.

    ``itemsets``: itemset (tuple of product ids, ascending), length, support, order_count.
    ``rules``: antecedents, consequents (tuples of product ids), antecedent_support,
    consequent_support, support, confidence, lift, leverage, conviction (certain rules:
    ``CONVICTION_CERTAIN``), order_count (orders containing antecedents and consequents);
    sorted by lift, then confidence, then order_count, all descending.
    ``basket_count`` is the number of orders with at least one purchased line (the support
    denominator); ``item_count`` the number of distinct products bought in them.
    """

    itemsets: pd.DataFrame
    rules: pd.DataFrame
    parameters: MiningParameters
    basket_count: int
    item_count: int
    frequent_item_count: int
    support_choice: SupportChoice | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedSegment:
    """A segment with too few orders to mine rules from."""

    segment: Hashable
    basket_count: int
    reason: str


# --------------------------------------------------------------------------- input


@dataclass(frozen=True, kw_only=True, slots=True)
class _Baskets:
    """Baskets as deduplicated (basket code, product code) pairs."""

    basket_count: int
    rows: np.ndarray  # basket code of each pair
    cols: np.ndarray  # product code of each pair
    product_ids: np.ndarray  # product id of each product code
    item_counts: np.ndarray  # orders containing each product code


def clean_basket_lines(baskets: pd.DataFrame) -> pd.DataFrame:
    """Purchased lines as unique (order_id, product_id) pairs.

    Rows with a ``quantity`` column value that is not > 0 (returns, cancellations, and
    unknown quantities) are dropped: they are not evidence of buying anything together.
    """
    missing = {"order_id", "product_id"} - set(baskets.columns)
    if missing:
        raise ValueError(f"baskets need columns order_id and product_id; missing {sorted(missing)}")
    lines = baskets
    if "quantity" in lines.columns:
        lines = lines[pd.to_numeric(lines["quantity"], errors="coerce").gt(0).to_numpy()]
    lines = lines[["order_id", "product_id"]].dropna()
    lines = lines.astype({"product_id": np.int64})
    return lines.drop_duplicates(ignore_index=True)


def _encode(baskets: pd.DataFrame) -> _Baskets:
    lines = clean_basket_lines(baskets)
    rows, _ = pd.factorize(lines["order_id"], sort=False)
    cols, product_ids = pd.factorize(lines["product_id"], sort=True)
    rows = rows.astype(np.int64)
    cols = cols.astype(np.int64)
    basket_count = int(rows.max()) + 1 if rows.size else 0
    return _Baskets(
        basket_count=basket_count,
        rows=rows,
        cols=cols,
        product_ids=np.asarray(product_ids, dtype=np.int64),
        item_counts=np.bincount(cols, minlength=len(product_ids)),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Pruned:
    """Only the frequent products, only the baskets that still hold one (CSR layout)."""

    indptr: np.ndarray
    indices: np.ndarray  # per row ascending; code order = ascending order count
    product_ids: np.ndarray  # product id of each pruned code
    item_counts: np.ndarray


def _prune(baskets: _Baskets, min_count: int) -> _Pruned:
    frequent = np.flatnonzero(baskets.item_counts >= min_count)
    # Least frequent first: a prefix then starts with its rarest product, so each
    # conditional database holds few baskets. Ties by product id keep runs reproducible.
    order = np.lexsort((baskets.product_ids[frequent], baskets.item_counts[frequent]))
    frequent = frequent[order]
    new_code = np.full(baskets.item_counts.size, -1, dtype=np.int64)
    new_code[frequent] = np.arange(frequent.size)

    keep = new_code[baskets.cols] >= 0
    rows = baskets.rows[keep]
    cols = new_code[baskets.cols[keep]]
    # Renumber the surviving baskets densely: baskets left empty vanish from the matrix,
    # but not from the support denominator (basket_count).
    _, rows = np.unique(rows, return_inverse=True)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    row_count = int(rows.max()) + 1 if rows.size else 0
    indptr = np.zeros(row_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=row_count), out=indptr[1:])
    return _Pruned(
        indptr=indptr,
        indices=cols,
        product_ids=baskets.product_ids[frequent],
        item_counts=baskets.item_counts[frequent],
    )


# --------------------------------------------------------------------------- mining


def _gather_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the entries of ``rows`` and the (new) row number of each."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    out_starts = np.cumsum(lengths) - lengths
    positions = np.repeat(starts - out_starts, lengths) + np.arange(lengths.sum())
    return positions, np.repeat(np.arange(rows.size), lengths)


class _Collector:
    def __init__(self, max_itemsets: int) -> None:
        self.itemsets: list[tuple[int, ...]] = []
        self.counts: list[int] = []
        self.max_itemsets = max_itemsets

    def add(self, prefix: tuple[int, ...], items: np.ndarray, counts: np.ndarray) -> None:
        self.itemsets.extend(prefix + (int(item),) for item in items)
        self.counts.extend(counts.tolist())
        if len(self.itemsets) > self.max_itemsets:
            raise TooManyItemsetsError(
                f"more than {self.max_itemsets:,} frequent itemsets; raise the minimum "
                "support or lower max_len"
            )


def _grow(
    prefix: tuple[int, ...],
    indptr: np.ndarray,
    indices: np.ndarray,
    *,
    item_count: int,
    min_count: int,
    max_len: int | None,
    out: _Collector,
) -> None:
    """Collect every frequent ``prefix + X`` from the baskets containing ``prefix``.

    ``indptr``/``indices`` hold those baskets restricted to items after the prefix's last
    item, so each itemset is found exactly once (from its items in code order).
    """
    if indices.size == 0:
        return
    counts = np.bincount(indices, minlength=item_count)
    extensions = np.flatnonzero(counts >= min_count)
    if extensions.size == 0:
        return
    out.add(prefix, extensions, counts[extensions])
    if max_len is not None and len(prefix) + 1 >= max_len:
        return

    # An item infrequent next to the prefix stays infrequent next to any longer prefix.
    row_of = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    keep = counts[indices] >= min_count
    indices, row_of = indices[keep], row_of[keep]
    indptr = np.zeros(indptr.size, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=indptr.size - 1), out=indptr[1:])
    # Entries grouped by item (stable, so rows stay ascending) find "baskets with item b".
    by_item = np.argsort(indices, kind="stable")
    item_starts = np.searchsorted(indices[by_item], extensions)
    item_ends = item_starts + counts[extensions]
    for item, start, end in zip(extensions.tolist(), item_starts, item_ends, strict=True):
        rows = row_of[by_item[start:end]]
        positions, child_rows = _gather_rows(indptr, rows)
        later = indices[positions] > item
        child_indices = indices[positions][later]
        child_indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(child_rows[later], minlength=rows.size), out=child_indptr[1:])
        _grow(
            prefix + (item,),
            child_indptr,
            child_indices,
            item_count=item_count,
            min_count=min_count,
            max_len=max_len,
            out=out,
        )


def _mine_itemsets_sparse(
    pruned: _Pruned, *, min_count: int, max_len: int | None, max_itemsets: int
) -> tuple[list[tuple[int, ...]], list[int]]:
    out = _Collector(max_itemsets)
    _grow(
        (),
        pruned.indptr,
        pruned.indices,
        item_count=pruned.product_ids.size,
        min_count=min_count,
        max_len=max_len,
        out=out,
    )
    return out.itemsets, out.counts


def _mine_itemsets_mlxtend(
    pruned: _Pruned, *, min_count: int, max_len: int | None, max_itemsets: int
) -> tuple[list[tuple[int, ...]], list[int]]:
    from mlxtend.frequent_patterns import fpgrowth

    row_count = pruned.indptr.size - 1
    item_count = pruned.product_ids.size
    if item_count == 0:
        return [], []
    # Dense is affordable only because pruning left just the frequent products.
    dense = np.zeros((row_count, item_count), dtype=bool)
    dense[np.repeat(np.arange(row_count), np.diff(pruned.indptr)), pruned.indices] = True
    # fpgrowth divides by the rows it sees (the non-empty baskets); a threshold half a
    # basket below min_count makes its float comparison select exactly count >= min_count.
    found = fpgrowth(
        pd.DataFrame(dense), min_support=(min_count - 0.5) / row_count, max_len=max_len
    )
    if len(found) > max_itemsets:
        raise TooManyItemsetsError(f"more than {max_itemsets:,} frequent itemsets")
    counts = np.rint(found["support"].to_numpy() * row_count).astype(np.int64)
    return [tuple(sorted(int(i) for i in s)) for s in found["itemsets"]], counts.tolist()


_ENGINES = {"sparse": _mine_itemsets_sparse, "mlxtend": _mine_itemsets_mlxtend}


def _rules_from_itemsets(
    codes: list[tuple[int, ...]],
    counts: list[int],
    *,
    product_ids: np.ndarray,
    basket_count: int,
    min_confidence: float,
) -> pd.DataFrame:
    count_of = dict(zip(codes, counts, strict=True))
    antecedents: list[tuple[int, ...]] = []
    consequents: list[tuple[int, ...]] = []
    both_counts: list[int] = []
    for itemset, count in zip(codes, counts, strict=True):
        for size in range(1, len(itemset)):
            for antecedent in combinations(itemset, size):
                antecedents.append(antecedent)
                consequents.append(tuple(i for i in itemset if i not in antecedent))
                both_counts.append(count)
    if not antecedents:
        return _empty_rules()

    # Every subset of a frequent itemset is frequent, so these lookups cannot miss.
    n_ac = np.asarray(both_counts, dtype=np.int64)
    n_a = np.fromiter((count_of[a] for a in antecedents), dtype=np.int64, count=n_ac.size)
    n_c = np.fromiter((count_of[c] for c in consequents), dtype=np.int64, count=n_ac.size)
    confidence = n_ac / n_a
    keep = np.flatnonzero(confidence >= min_confidence)
    n_ac, n_a, n_c, confidence = n_ac[keep], n_a[keep], n_c[keep], confidence[keep]
    n = float(basket_count)
    s_a, s_c, s_ac = n_a / n, n_c / n, n_ac / n
    certain = n_ac == n_a  # decided on integers: confidence is exactly 1
    conviction = np.full(n_ac.size, CONVICTION_CERTAIN)
    conviction[~certain] = (1.0 - s_c[~certain]) / (1.0 - confidence[~certain])

    def ids(code_tuples: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        return [tuple(sorted(int(product_ids[c]) for c in codes_)) for codes_ in code_tuples]

    rules = pd.DataFrame(
        {
            "antecedents": ids([antecedents[i] for i in keep]),
            "consequents": ids([consequents[i] for i in keep]),
            "antecedent_support": s_a,
            "consequent_support": s_c,
            "support": s_ac,
            "confidence": confidence,
            "lift": confidence / s_c,
            "leverage": s_ac - s_a * s_c,
            "conviction": conviction,
            "order_count": n_ac,
        },
        columns=RULE_COLUMNS,
    )
    return _sort_rules(rules)


def _sort_rules(rules: pd.DataFrame) -> pd.DataFrame:
    # Tuple columns as final keys make the order fully deterministic.
    return rules.sort_values(
        ["lift", "confidence", "order_count", "antecedents", "consequents"],
        ascending=[False, False, False, True, True],
        ignore_index=True,
    )


def _empty_rules() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in RULE_COLUMNS})
    return frame.astype({"antecedents": object, "consequents": object, "order_count": np.int64})


def _itemsets_frame(
    codes: list[tuple[int, ...]], counts: list[int], *, product_ids: np.ndarray, basket_count: int
) -> pd.DataFrame:
    if not codes:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in ITEMSET_COLUMNS})
        return frame.astype({"itemset": object, "length": np.int64, "order_count": np.int64})
    order_count = np.asarray(counts, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "itemset": [tuple(sorted(int(product_ids[c]) for c in s)) for s in codes],
            "length": np.fromiter((len(s) for s in codes), dtype=np.int64, count=len(codes)),
            "support": order_count / float(basket_count),
            "order_count": order_count,
        }
    )
    return frame.sort_values(
        ["length", "order_count", "itemset"], ascending=[True, False, True], ignore_index=True
    )


def min_count_for_support(min_support: float, basket_count: int) -> int:
    """The smallest order count whose support (count / baskets) is >= ``min_support``.

    Decided with the same float comparison as mlxtend's ``support >= min_support``, so
    thresholds like 0.07 × 100 (= 7.000000000000001 in floats) still admit 7 orders.
    """
    count = max(1, math.ceil(min_support * basket_count))
    while count > 1 and (count - 1) / basket_count >= min_support:
        count -= 1
    while count / basket_count < min_support:
        count += 1
    return count


def _validate(
    *,
    min_support: float | None,
    min_confidence: float,
    max_len: int | None,
    min_orders: int,
) -> None:
    if min_support is not None and not 0.0 < min_support <= 1.0:
        raise ValueError(f"min_support must be in (0, 1], got {min_support}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be at least 1 or None, got {max_len}")
    if min_orders < 1:
        raise ValueError(f"min_orders must be at least 1, got {min_orders}")


def _mine_encoded(
    baskets: _Baskets,
    *,
    min_support: float,
    min_count: int,
    min_orders: int,
    min_confidence: float,
    max_len: int | None,
    engine: Engine,
    max_itemsets: int,
) -> RuleMiningResult:
    parameters = MiningParameters(
        min_support=min_support,
        min_count=min_count,
        min_orders=min_orders,
        min_confidence=min_confidence,
        max_len=max_len,
    )
    pruned = _prune(baskets, min_count)
    codes, counts = _ENGINES[engine](
        pruned, min_count=min_count, max_len=max_len, max_itemsets=max_itemsets
    )
    return RuleMiningResult(
        itemsets=_itemsets_frame(
            codes, counts, product_ids=pruned.product_ids, basket_count=baskets.basket_count
        ),
        rules=_rules_from_itemsets(
            codes,
            counts,
            product_ids=pruned.product_ids,
            basket_count=baskets.basket_count,
            min_confidence=min_confidence,
        ),
        parameters=parameters,
        basket_count=baskets.basket_count,
        item_count=int(baskets.product_ids.size),
        frequent_item_count=int(pruned.product_ids.size),
    )


# --------------------------------------------------------------------------- adaptive support


def _choose_encoded(
    baskets: _Baskets,
    *,
    target_rules: tuple[int, int],
    min_orders: int,
    min_confidence: float,
    max_len: int | None,
    ladder: Sequence[float],
    engine: Engine,
    max_itemsets: int,
) -> tuple[SupportChoice, RuleMiningResult | None]:
    low, high = target_rules
    if not 0 <= low <= high:
        raise ValueError(
            f"target_rules must be (low, high) with 0 <= low <= high, got {target_rules}"
        )
    n = baskets.basket_count
    results: dict[int, RuleMiningResult | None] = {}  # None: too many itemsets
    trials: list[SupportTrial] = []

    def attempt(min_support: float, min_count: int) -> int | None:
        """Rule count at this threshold; None when the itemsets blew past the guard."""
        if min_count not in results:
            try:
                results[min_count] = _mine_encoded(
                    baskets,
                    min_support=min_support,
                    min_count=min_count,
                    min_orders=min_orders,
                    min_confidence=min_confidence,
                    max_len=max_len,
                    engine=engine,
                    max_itemsets=max_itemsets,
                )
            except TooManyItemsetsError:
                results[min_count] = None
            result = results[min_count]
            trials.append(
                SupportTrial(
                    min_support=min_support,
                    min_count=min_count,
                    itemset_count=len(result.itemsets) if result else max_itemsets,
                    rule_count=len(result.rules) if result else 0,
                    too_many_itemsets=result is None,
                )
            )
        result = results[min_count]
        return None if result is None else len(result.rules)

    def choice(min_support: float, min_count: int, reason: str) -> SupportChoice:
        result = results.get(min_count)
        return SupportChoice(
            min_support=min_support,
            min_count=min_count,
            min_orders=min_orders,
            min_confidence=min_confidence,
            max_len=max_len,
            basket_count=n,
            rule_count=len(result.rules) if result else 0,
            target_rules=(low, high),
            reason=reason,
            trials=tuple(trials),
        )

    if n == 0:
        return choice(1.0, min_orders, "no baskets to mine"), None

    # Rules only grow as the support falls (confidence does not depend on support), so
    # the first ladder step reaching `low` is the highest support that can be in range.
    ladder = sorted(set(ladder), reverse=True)
    few: tuple[float, int, int] | None = None  # last step with too few rules
    many: tuple[float, int] | None = None  # first step with too many
    for step in ladder:
        count = max(min_orders, min_count_for_support(step, n))
        if few is not None and count >= few[1]:
            continue  # same threshold as the previous step: nothing new to learn
        rules = attempt(step, count)
        if rules is not None and low <= rules <= high:
            return choice(
                step,
                count,
                f"{rules} rules at support {step:g} ({count} orders), within "
                f"the target of {low}–{high}",
            ), results[count]
        if rules is None or rules > high:
            many = (step, count)
            break
        few = (step, count, rules)
        if count == min_orders:
            break

    if many is None:
        assert few is not None
        step, count, rules = few
        if count == min_orders:
            reason = (
                f"only {rules} rules even at the floor of {min_orders} orders per itemset "
                f"(support {step:g}); fewer than the target of {low}"
            )
        else:
            reason = f"only {rules} rules at the lowest support tried ({step:g}, {count} orders)"
        return choice(step, count, reason), results[count]

    # The ladder jumped over the target range: bisect on the order count in between.
    many_count = many[1]
    few_count = few[1] if few is not None else int(baskets.item_counts.max()) + 1
    few_rules = few[2] if few is not None else 0
    while few_count - many_count > 1:
        middle = (few_count + many_count) // 2
        rules = attempt(middle / n, middle)
        if rules is not None and low <= rules <= high:
            return choice(
                middle / n,
                middle,
                f"{rules} rules at support {middle / n:.3g} ({middle} "
                f"orders; found between ladder steps), within the target of {low}–{high}",
            ), results[middle]
        if rules is None or rules > high:
            many_count = middle
        else:
            few_count, few_rules = middle, rules

    # No threshold lands in range (one more order per itemset changes many rules at once).
    many_result = results[many_count]
    too_far_above = many_result is None or (
        few_rules > 0 and math.log(len(many_result.rules) / high) > math.log(low / few_rules)
    )
    if too_far_above and few_count <= int(baskets.item_counts.max()):
        return choice(
            few_count / n,
            few_count,
            f"{few_rules} rules at {few_count} orders; one order "
            f"fewer gives more than {high}, so no threshold hits {low}–{high} exactly",
        ), results[few_count]
    assert many_result is not None
    return choice(
        many_count / n,
        many_count,
        f"{len(many_result.rules)} rules at {many_count} orders; "
        f"one order more gives fewer than {low}, so no threshold hits {low}–{high} exactly",
    ), many_result


def choose_min_support(
    baskets: pd.DataFrame,
    *,
    target_rules: tuple[int, int] = DEFAULT_TARGET_RULES,
    min_orders: int = DEFAULT_MIN_ORDERS,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_len: int | None = DEFAULT_MAX_LEN,
    ladder: Sequence[float] = DEFAULT_SUPPORT_LADDER,
    engine: Engine = "sparse",
    max_itemsets: int = DEFAULT_MAX_ITEMSETS,
) -> SupportChoice:
    """The highest support giving ``target_rules`` rules, never below ``min_orders`` orders.

    Walks ``ladder`` downwards (mining at each step) and stops at the first step whose rule
    count reaches the target; if that step overshoots, bisects on the order count between
    it and the previous step. When even the ``min_orders`` floor gives too few rules, the
    floor is chosen. ``reason`` explains the outcome in a sentence for the owner.
    """
    _validate(
        min_support=None, min_confidence=min_confidence, max_len=max_len, min_orders=min_orders
    )
    choice, _ = _choose_encoded(
        _encode(baskets),
        target_rules=target_rules,
        min_orders=min_orders,
        min_confidence=min_confidence,
        max_len=max_len,
        ladder=ladder,
        engine=engine,
        max_itemsets=max_itemsets,
    )
    return choice


def mine_rules(
    baskets: pd.DataFrame,
    *,
    min_support: float | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_len: int | None = DEFAULT_MAX_LEN,
    min_orders: int = DEFAULT_MIN_ORDERS,
    target_rules: tuple[int, int] = DEFAULT_TARGET_RULES,
    ladder: Sequence[float] = DEFAULT_SUPPORT_LADDER,
    engine: Engine = "sparse",
    max_itemsets: int = DEFAULT_MAX_ITEMSETS,
) -> RuleMiningResult:
    """Frequent itemsets and association rules of ``baskets``.

    ``min_support=None`` chooses it with :func:`choose_min_support` (recorded in
    ``support_choice``). An explicit ``min_support`` is honoured, but an itemset still needs
    ``min_orders`` orders (pass ``min_orders=1`` to switch that floor off): on a small shop
    a 1% support can mean a single order, and one order is an anecdote, not a pattern.
    Raises :class:`TooManyItemsetsError` past ``max_itemsets`` frequent itemsets.
    """
    _validate(
        min_support=min_support,
        min_confidence=min_confidence,
        max_len=max_len,
        min_orders=min_orders,
    )
    encoded = _encode(baskets)
    if min_support is None:
        choice, result = _choose_encoded(
            encoded,
            target_rules=target_rules,
            min_orders=min_orders,
            min_confidence=min_confidence,
            max_len=max_len,
            ladder=ladder,
            engine=engine,
            max_itemsets=max_itemsets,
        )
        if result is None:  # no baskets: mine anyway for well-formed empty frames
            result = _mine_encoded(
                encoded,
                min_support=choice.min_support,
                min_count=choice.min_count,
                min_orders=min_orders,
                min_confidence=min_confidence,
                max_len=max_len,
                engine=engine,
                max_itemsets=max_itemsets,
            )
        return RuleMiningResult(
            itemsets=result.itemsets,
            rules=result.rules,
            parameters=result.parameters,
            basket_count=result.basket_count,
            item_count=result.item_count,
            frequent_item_count=result.frequent_item_count,
            support_choice=choice,
        )

    min_count = min_orders
    if encoded.basket_count:
        min_count = max(min_orders, min_count_for_support(min_support, encoded.basket_count))
    return _mine_encoded(
        encoded,
        min_support=min_support,
        min_count=min_count,
        min_orders=min_orders,
        min_confidence=min_confidence,
        max_len=max_len,
        engine=engine,
        max_itemsets=max_itemsets,
    )


def mine_rules_per_segment(
    baskets: pd.DataFrame,
    order_segment: pd.Series,
    *,
    min_baskets: int = DEFAULT_MIN_SEGMENT_BASKETS,
    min_support: float | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_len: int | None = DEFAULT_MAX_LEN,
    min_orders: int = DEFAULT_MIN_ORDERS,
    target_rules: tuple[int, int] = DEFAULT_TARGET_RULES,
    engine: Engine = "sparse",
    max_itemsets: int = DEFAULT_MAX_ITEMSETS,
) -> dict[Hashable, RuleMiningResult | SkippedSegment]:
    """Rules mined separately within each segment's orders.

    ``order_segment`` maps order_id (index) to a segment key; orders it does not map are
    left out. Supports are fractions of the segment's own baskets. Every segment named in
    ``order_segment`` gets an entry: a :class:`SkippedSegment` with the reason when it has
    fewer than ``min_baskets`` purchased baskets.
    """
    lines = clean_basket_lines(baskets)
    segment_of_line = lines["order_id"].map(order_segment)
    results: dict[Hashable, RuleMiningResult | SkippedSegment] = {}
    groups = dict(list(lines.groupby(segment_of_line.to_numpy(), sort=False)))
    for segment in pd.unique(order_segment.dropna()):
        segment_lines = groups.get(segment, lines.iloc[:0])
        basket_count = int(segment_lines["order_id"].nunique())
        if basket_count < min_baskets:
            results[segment] = SkippedSegment(
                segment=segment,
                basket_count=basket_count,
                reason=f"only {basket_count} orders with purchases; rules need at least "
                f"{min_baskets}",
            )
            continue
        results[segment] = mine_rules(
            segment_lines,
            min_support=min_support,
            min_confidence=min_confidence,
            max_len=max_len,
            min_orders=min_orders,
            target_rules=target_rules,
            engine=engine,
            max_itemsets=max_itemsets,
        )
    return results

