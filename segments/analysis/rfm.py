"""RFM scores (1..5) and the named segments that partition the score space.

Scores: R and M compare a customer with the shop's other customers. Each value gets
the mid-rank share of customers at or below it, ``(average rank - 0.5) / n``, and
that share is cut into fifths: equal values always get equal scores (customer ids
never decide), a shop where everyone spent the same scores everyone 3, and the
top fifth scores 5. Recency is reversed: the most recent customers get R = 5.

F is not relative: in most shops most customers buy once, and quintiles of a
column that is mostly 1 say nothing. F is read off a fixed scale of purchases
(``FREQUENCY_SCALE``): 1 order (or none: returns only) = 1, 2 = 2, 3 = 3, 4-5 = 4,
6 or more = 5. A purchase is an order with a positive value (analysis.features).

Segments: a customer's segment depends on R and on ``FM``, the average of F and M
rounded half up (``(F + M + 1) // 2``). Using F and M together keeps big one-off
spenders from looking like bargain hunters, while a 5 x 5 grid stays small enough
to explain on a page. The grid (rows R, columns FM):

    R\\FM  1               2                  3                  4          5
    5     New             Potential Loyalist Potential Loyalist Champions  Champions
    4     Promising       Potential Loyalist Potential Loyalist Loyal      Loyal
    3     About to Sleep  About to Sleep     Need Attention     Loyal      Loyal
    2     Hibernating     Hibernating        At Risk            At Risk    Can't Lose
    1     Lost            Lost               At Risk            At Risk    Can't Lose

Because scores are relative (R, M) or coarse (F), words about a customer never come
from the scores: ``customer_notes`` states the facts (days, purchases, spend), with
an adjective only where the fact itself meets a stated threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SCORE_COLUMNS: tuple[str, str, str] = ("r_score", "f_score", "m_score")

# F = 1 + how many of these purchase counts a customer exceeds: 1, 2, 3, 4-5, 6+.
FREQUENCY_SCALE: tuple[int, int, int, int] = (1, 2, 3, 5)

# The absolute thresholds behind the words of customer_notes.
RECENT_DAYS = 30  # "bought recently": the last purchase at most this many days ago
LAPSED_DAYS = 365  # "not for over a year": more than this
OFTEN_ORDERS = 4  # "buy often": at least this many purchases (F >= 4), none over a year ago


@dataclass(frozen=True, kw_only=True, slots=True)
class RfmSegment:
    slug: str
    name: str
    # True of every member's scores; relative words say "compared with" on purpose.
    description: str
    r_scores: frozenset[int]
    fm_scores: frozenset[int]

    def contains(self, r: int, f: int, m: int) -> bool:
        return r in self.r_scores and fm_score(f, m) in self.fm_scores


def _segment(slug: str, name: str, description: str, r: range, fm: range) -> RfmSegment:
    return RfmSegment(
        slug=slug, name=name, description=description, r_scores=frozenset(r),
        fm_scores=frozenset(fm),
    )


RFM_SEGMENTS: dict[str, RfmSegment] = {
    s.slug: s
    for s in (
        _segment("champions", "Champions",
                 "Among your most recent buyers, and high on orders and spend together.",
                 range(5, 6), range(4, 6)),
        _segment("loyal", "Loyal",
                 "Middling or better on recency, and high on orders and spend together.",
                 range(3, 5), range(4, 6)),
        _segment("potential_loyalist", "Potential Loyalist",
                 "Among your more recent buyers, middling on orders and spend together.",
                 range(4, 6), range(2, 4)),
        _segment("new", "New",
                 "Among your most recent buyers, low on orders and spend together.",
                 range(5, 6), range(1, 2)),
        _segment("promising", "Promising",
                 "Among your more recent buyers, low on orders and spend together.",
                 range(4, 5), range(1, 2)),
        _segment("need_attention", "Need Attention",
                 "Middling on recency, and on orders and spend together.",
                 range(3, 4), range(3, 4)),
        _segment("about_to_sleep", "About to Sleep",
                 "Middling on recency, low on orders and spend together.",
                 range(3, 4), range(1, 3)),
        _segment("at_risk", "At Risk",
                 "Longer since their last purchase than most customers, above the middle on "
                 "orders and spend together.",
                 range(1, 3), range(3, 5)),
        _segment("cant_lose", "Can't Lose",
                 "Longer since their last purchase than most customers, yet top on orders and "
                 "spend together.",
                 range(1, 3), range(5, 6)),
        _segment("hibernating", "Hibernating",
                 "Longer since their last purchase than most customers, low on orders and spend "
                 "together.",
                 range(2, 3), range(1, 3)),
        _segment("lost", "Lost",
                 "Among the longest since their last purchase, low on orders and spend together.",
                 range(1, 2), range(1, 3)),
    )
}


def fm_score(f: int, m: int) -> int:
    """Average of F and M rounded half up, so (4, 5) counts as 5 and (1, 2) as 2."""
    return (int(f) + int(m) + 1) // 2


def _fifths(values: pd.Series, *, ascending: bool) -> pd.Series:
    """1..5 by the mid-rank share of customers: equal values, equal scores."""
    ranks = values.rank(method="average", ascending=ascending)
    share = (ranks - 0.5) / len(values)
    return (np.floor(share * 5).clip(upper=4) + 1).astype("int64")


@dataclass(frozen=True, kw_only=True, slots=True)
class FrequencyBand:
    score: int
    lowest: int  # purchases
    highest: int | None  # None: no upper end

    @property
    def label(self) -> str:
        if self.highest is None:
            return f"{self.lowest}+"
        return str(self.lowest) if self.lowest == self.highest else f"{self.lowest}–{self.highest}"


def frequency_bands() -> tuple[FrequencyBand, ...]:
    """FREQUENCY_SCALE as the page shows it: 1, 2, 3, 4–5, 6+ (score 1 also holds 0)."""
    lows = (1, *(e + 1 for e in FREQUENCY_SCALE))
    highs = (*FREQUENCY_SCALE, None)
    return tuple(FrequencyBand(score=i + 1, lowest=low, highest=high)
                 for i, (low, high) in enumerate(zip(lows, highs, strict=True)))


def frequency_scores(frequency: pd.Series) -> pd.Series:
    """F (1..5) on the fixed FREQUENCY_SCALE."""
    values = frequency.to_numpy(dtype=float)
    above = (values[:, None] > np.array(FREQUENCY_SCALE, dtype=float)[None, :]).sum(axis=1)
    return pd.Series(1 + above, index=frequency.index, dtype="int64")


def _scored(features: pd.DataFrame, column: str) -> np.ndarray:
    """The values a score ranks. Recency is days since the last purchase; a customer
    with none (returns, refunds or orders of 0.00 only) is as long ago as can be: no
    "recent buyer", however recent their refund (features date them by it)."""
    values = features[column].to_numpy(dtype=float)
    if column == "recency_days":
        values = np.where(features["frequency"].to_numpy() > 0, values, np.inf)
    return values


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Return r_score, f_score and m_score (1..5) for each row of ``features``."""
    if features.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in SCORE_COLUMNS}, index=features.index
        )
    return pd.DataFrame(
        {
            # Descending: the smallest recency_days gets the highest rank, hence R = 5.
            "r_score": _fifths(pd.Series(_scored(features, "recency_days"),
                                         index=features.index), ascending=False),
            "f_score": frequency_scores(features["frequency"]),
            "m_score": _fifths(features["monetary"], ascending=True),
        },
        index=features.index,
    )


def _build_grid() -> np.ndarray:
    grid = np.empty((6, 6), dtype=object)  # [r, fm], index 0 unused so scores index directly
    for r in range(1, 6):
        for fm in range(1, 6):
            matches = [
                s.slug for s in RFM_SEGMENTS.values() if r in s.r_scores and fm in s.fm_scores
            ]
            if len(matches) != 1:
                raise AssertionError(f"RFM segments do not partition (R={r}, FM={fm}): {matches}")
            grid[r, fm] = matches[0]
    return grid


_GRID = _build_grid()


def rfm_segment(r: int, f: int, m: int) -> str:
    """Slug of the segment for one score triple."""
    for score in (r, f, m):
        if not 1 <= int(score) <= 5:
            raise ValueError(f"RFM scores must be 1..5, got {(r, f, m)}")
    return str(_GRID[int(r), fm_score(f, m)])


def assign_rfm_segments(scores: pd.DataFrame) -> pd.Series:
    """Segment slug per row of an ``rfm_scores`` frame."""
    r = scores["r_score"].to_numpy(dtype="int64")
    fm = (
        scores["f_score"].to_numpy(dtype="int64") + scores["m_score"].to_numpy(dtype="int64") + 1
    ) // 2
    return pd.Series(_GRID[r, fm].astype(str), index=scores.index, name="segment", dtype=object)


# Which way each relative score runs: R is reversed (fewer days = higher R).
_SCORED: dict[str, tuple[str, bool]] = {
    "r_score": ("recency_days", False),
    "m_score": ("monetary", True),
}


def quintile_edges(features: pd.DataFrame, scores: pd.DataFrame) -> dict[str, list[float | None]]:
    """The value boundaries of a run's scores, to score customers who arrive later.

    For M, edge s (s = 1..4) is the largest value that scored s or lower; for R the
    smallest recency that scored s or lower; None where no customer scored that low.
    Because equal values always share a score, ``scores_from_edges`` gives every
    customer of the run exactly their own score back. Frequency's edges are the
    fixed FREQUENCY_SCALE, whoever is in the run.
    """
    edges: dict[str, list[float | None]] = {"frequency": [float(e) for e in FREQUENCY_SCALE]}
    for score_column, (column, ascending) in _SCORED.items():
        values = _scored(features, column)
        score = scores[score_column].to_numpy()
        row: list[float | None] = []
        for s in range(1, 5):
            chosen = values[score <= s]
            edge = (chosen.max() if ascending else chosen.min()) if len(chosen) else np.inf
            # Only customers without a purchase scored that low (or none did): every
            # purchase is above it, as None says (JSON has no infinity).
            row.append(float(edge) if np.isfinite(edge) else None)
        edges[column] = row
    return edges


def scores_from_edges(features: pd.DataFrame, edges: dict[str, list[float | None]]) -> pd.DataFrame:
    """r_score, f_score and m_score (1..5) of ``features`` on the scale of ``quintile_edges``."""
    result = {}
    for score_column, column, ascending in (("r_score", "recency_days", False),
                                            ("f_score", "frequency", True),
                                            ("m_score", "monetary", True)):
        values = _scored(features, column)
        # A missing edge means no one scored that low: everybody is above it.
        bounds = np.array(
            [(-np.inf if ascending else np.inf) if e is None else e for e in edges[column]]
        )
        if ascending:
            above = (values[:, None] > bounds[None, :]).sum(axis=1)
        else:
            above = (values[:, None] < bounds[None, :]).sum(axis=1)
        result[score_column] = (1 + above).astype("int64")
    return pd.DataFrame(result, index=features.index)


# ------------------------------------------------------------------ words from facts


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    """One claim about a customer, as data: pages turn ``code`` into words (gettext)."""

    code: str
    params: Mapping[str, int | float] = field(default_factory=dict)


def customer_notes(*, recency_days: float, orders: int, spend: float) -> tuple[Note, ...]:
    """What can truly be said of a customer from their facts, whatever their scores.

    ``recency_days``: days since the last purchase (since the last order when there is
    no purchase), ``orders``: purchases, ``spend``: net of returns and refunds. Each
    note's adjective holds by the thresholds above, in absolute terms; a relative score
    (R = 5 in a shop whose newest order is years old) never becomes "recently".
    """
    days = max(0, math.floor(recency_days))
    orders = int(orders)
    if orders <= 0:
        notes = [Note(code="no_purchase"), Note(code="last_order_days", params={"days": days})]
    else:
        if days <= RECENT_DAYS:
            notes = [Note(code="bought_recently", params={"days": days})]
        elif days > LAPSED_DAYS:
            notes = [Note(code="not_for_over_a_year", params={"days": days})]
        else:
            notes = [Note(code="last_bought_days", params={"days": days})]
        if orders == 1:
            notes.append(Note(code="bought_once"))
        elif orders >= OFTEN_ORDERS and days <= LAPSED_DAYS:
            # "buy often" speaks of now: not of someone who has not bought for a year.
            notes.append(Note(code="bought_often", params={"orders": orders}))
        else:
            notes.append(Note(code="bought_times", params={"orders": orders}))
    cents = round(float(spend) * 100)
    if cents > 0:
        notes.append(Note(code="spent", params={"cents": cents}))
    else:
        notes.append(Note(code="spent_nothing_net", params={"cents": cents}))
    return tuple(notes)
