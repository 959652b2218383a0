"""RFM scores (1..5 quintiles) and the named segments that partition the score space.

Scores: each of recency_days, frequency and monetary is ranked with
``rank(method="first")`` and the ranks are cut into five equal-count bins with
``pd.qcut``. Ranking first means ties never produce duplicate bin edges (which would
make qcut fail); tied customers are split by their order in the frame, which is
stable because the features frame is sorted by customer_id. Recency is reversed:
the most recent customers get R = 5.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SCORE_COLUMNS: tuple[str, str, str] = ("r_score", "f_score", "m_score")


@dataclass(frozen=True, kw_only=True, slots=True)
class RfmSegment:
    slug: str
    name: str
    description: str
    # str.format template over r, f, m and fm (the rounded F/M average).
    why_template: str
    r_scores: frozenset[int]
    fm_scores: frozenset[int]

    def contains(self, r: int, f: int, m: int) -> bool:
        return r in self.r_scores and fm_score(f, m) in self.fm_scores

    def why(self, r: int, f: int, m: int) -> str:
        return self.why_template.format(r=r, f=f, m=m, fm=fm_score(f, m))


def _segment(slug: str, name: str, description: str, why: str, r: range, fm: range) -> RfmSegment:
    return RfmSegment(
        slug=slug,
        name=name,
        description=description,
        why_template=why,
        r_scores=frozenset(r),
        fm_scores=frozenset(fm),
    )


RFM_SEGMENTS: dict[str, RfmSegment] = {
    s.slug: s
    for s in (
        _segment(
            "champions",
            "Champions",
            "Bought recently, buy often and spend the most.",
            "bought very recently (R={r}) and often with high spend (F={f}, M={m})",
            range(5, 6),
            range(4, 6),
        ),
        _segment(
            "loyal",
            "Loyal",
            "Buy regularly and spend well; respond to rewards.",
            "bought fairly recently (R={r}) and often with good spend (F={f}, M={m})",
            range(3, 5),
            range(4, 6),
        ),
        _segment(
            "potential_loyalist",
            "Potential Loyalist",
            "Recent customers with a few orders or average spend; could become loyal.",
            "bought recently (R={r}) with moderate orders and spend (F={f}, M={m})",
            range(4, 6),
            range(2, 4),
        ),
        _segment(
            "new",
            "New",
            "Bought very recently for the first time or with little spend so far.",
            "bought very recently (R={r}) but only once or little so far (F={f}, M={m})",
            range(5, 6),
            range(1, 2),
        ),
        _segment(
            "promising",
            "Promising",
            "Recent shoppers who have not bought much yet.",
            "bought recently (R={r}) but not much yet (F={f}, M={m})",
            range(4, 5),
            range(1, 2),
        ),
        _segment(
            "need_attention",
            "Need Attention",
            "Middling recency, frequency and spend; may slip without a nudge.",
            "last bought a while ago (R={r}) with average orders and spend (F={f}, M={m})",
            range(3, 4),
            range(3, 4),
        ),
        _segment(
            "about_to_sleep",
            "About to Sleep",
            "Middling recency and low activity; will be lost without reactivation.",
            "last bought a while ago (R={r}) and rarely, with low spend (F={f}, M={m})",
            range(3, 4),
            range(1, 3),
        ),
        _segment(
            "at_risk",
            "At Risk",
            "Used to buy often and spend well, but not for a long time.",
            "have not bought for a long time (R={r}) though they used to buy often (F={f}, M={m})",
            range(1, 3),
            range(3, 5),
        ),
        _segment(
            "cant_lose",
            "Can't Lose",
            "Among the best customers by orders and spend, but gone quiet.",
            "were top customers (F={f}, M={m}) but have not bought for a long time (R={r})",
            range(1, 3),
            range(5, 6),
        ),
        _segment(
            "hibernating",
            "Hibernating",
            "Last bought long ago, with few orders and low spend.",
            "last bought long ago (R={r}) with few orders and low spend (F={f}, M={m})",
            range(2, 3),
            range(1, 3),
        ),
        _segment(
            "lost",
            "Lost",
            "Lowest recency, frequency and spend; probably gone.",
            "last bought longest ago (R={r}) with few orders and low spend (F={f}, M={m})",
            range(1, 2),
            range(1, 3),
        ),
    )
}


def fm_score(f: int, m: int) -> int:
    """Average of F and M rounded half up, so (4, 5) counts as 5 and (1, 2) as 2."""
    return (int(f) + int(m) + 1) // 2


def _quintile(values: pd.Series, *, ascending: bool) -> pd.Series:
    n = len(values)
    if n == 1:
        # One customer has nobody to be compared with: call them average.
        return pd.Series(3, index=values.index, dtype="int64")
    ranks = values.rank(method="first", ascending=ascending)
    return pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype("int64")


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Return r_score, f_score and m_score (1..5) for each row of ``features``."""
    if features.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in SCORE_COLUMNS}, index=features.index
        )
    return pd.DataFrame(
        {
            # Descending: the smallest recency_days gets the highest rank, hence R = 5.
            "r_score": _quintile(features["recency_days"], ascending=False),
            "f_score": _quintile(features["frequency"], ascending=True),
            "m_score": _quintile(features["monetary"], ascending=True),
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


# Which way each score runs: R is reversed (fewer days since the last order = higher R).
_SCORED: dict[str, tuple[str, bool]] = {
    "r_score": ("recency_days", False),
    "f_score": ("frequency", True),
    "m_score": ("monetary", True),
}


def quintile_edges(features: pd.DataFrame, scores: pd.DataFrame) -> dict[str, list[float | None]]:
    """The value boundaries of a run's quintiles, to score customers who arrive later.

    For F and M, edge s (s = 1..4) is the largest value that scored s or lower; for R
    the smallest recency that scored s or lower. None where no customer scored that
    low (tiny shops). ``scores_from_edges`` gives every customer of the run their own
    score back, except where a run of tied values was split across two scores (rank
    order decided there); a newcomer with such a value gets the lower score.
    """
    edges: dict[str, list[float | None]] = {}
    for score_column, (column, ascending) in _SCORED.items():
        values = features[column].to_numpy(dtype=float)
        score = scores[score_column].to_numpy()
        row: list[float | None] = []
        for s in range(1, 5):
            chosen = values[score <= s]
            if not len(chosen):
                row.append(None)
            else:
                row.append(float(chosen.max() if ascending else chosen.min()))
        edges[column] = row
    return edges


def scores_from_edges(features: pd.DataFrame, edges: dict[str, list[float | None]]) -> pd.DataFrame:
    """r_score, f_score and m_score (1..5) of ``features`` on the scale of ``quintile_edges``."""
    result = {}
    for score_column, (column, ascending) in _SCORED.items():
        values = features[column].to_numpy(dtype=float)
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
