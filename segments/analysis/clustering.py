"""K-means customer clusters: scaling, choosing k, stable ids, names and readable rules.

Flow used by the services layer::

    matrix = prepare_matrix(features)                  # log1p + standardise
    choice = choose_k(matrix.values)                   # silhouette curve -> k
    fit = fit_kmeans(matrix, choice.k)                 # labels, centroids
    check = ward_on_sample(matrix.values, choice.k, kmeans_labels=fit.labels)
    ids = match_to_previous(fit.centroids_scaled, matrix.transform(previous_centroids))
    names = cluster_names(features, fit.labels)       # from the members' own facts
    rules = cluster_rules(features, fit.labels)       # shown only when rule.describes

Same data, same answer: k-means has a fixed seed, k is the fewest clusters whose
silhouette is within SILHOUETTE_TIE of the best (a tiny change in the data cannot
flip k between two near-equal peaks), and clusters are numbered by their centroids
(most recent first), not by k-means' arbitrary label order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.tree import DecisionTreeClassifier

from segments.analysis.features import FEATURE_COLUMNS


# eq=False: ndarray fields make generated equality ambiguous; identity is enough here.
@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class ScaledMatrix:
    values: np.ndarray
    index: pd.Index
    columns: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Put original-unit rows (e.g. last run's centroids) into this matrix's space."""
        logged = np.log1p(frame[list(self.columns)].clip(lower=0).to_numpy(dtype=float))
        return pd.DataFrame(
            (logged - self.center) / self.scale, index=frame.index, columns=list(self.columns)
        )

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return np.expm1(np.asarray(scaled) * self.scale + self.center)


@dataclass(frozen=True, kw_only=True, slots=True)
class KSelection:
    k: int
    reason: str
    silhouette: dict[int, float]  # the curve, for a chart
    smallest_share: dict[int, float]
    # Centroids of each k's fit on the selection sample: fit_kmeans starts from them.
    centroids: dict[int, np.ndarray] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class ClusterFit:
    labels: np.ndarray
    centroids_scaled: pd.DataFrame  # index = label
    centroids: pd.DataFrame  # same, in original units (expm1 of the log-space mean)
    sizes: pd.Series  # index = label
    inertia: float


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class WardComparison:
    sample_positions: np.ndarray
    labels: np.ndarray
    adjusted_rand: float  # agreement with k-means on the same sample; 1 = identical


@dataclass(frozen=True, kw_only=True, slots=True)
class NameClaim:
    """What one part of a cluster's name says, as bounds on one fact: "recent" is
    recency_days <= 90, "2–3 orders" is 2 <= frequency <= 3. `recency_months` is
    whole days / DAYS_PER_MONTH, rounded, as "last order 5–12 months ago" counts."""

    fact: str  # "recency_days", "recency_months", "frequency" or "monetary"
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CentroidDescription:
    name: str
    description: str
    claims: tuple[NameClaim, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterRule:
    label: int
    text: str
    conditions: tuple[str, ...]
    coverage: float  # share of the cluster's members the rule selects
    precision: float  # share of selected customers that belong to the cluster
    support: int  # customers the rule selects

    @property
    def describes(self) -> bool:
        """Whether the rule is faithful enough to show as the cluster's definition."""
        return self.coverage >= RULE_MIN_COVERAGE and self.precision >= RULE_MIN_PRECISION


FRIENDLY_NAMES: dict[str, tuple[str, str]] = {
    "recency_days": ("last order", " days ago"),
    "frequency": ("orders", ""),
    "monetary": ("total spend", ""),
    "avg_order_value": ("average order", ""),
    "tenure_days": ("first order", " days ago"),
    "mean_days_between_orders": ("days between orders", ""),
    "return_rate": ("return rate", ""),
}


def prepare_matrix(
    features: pd.DataFrame, columns: Sequence[str] = FEATURE_COLUMNS
) -> ScaledMatrix:
    """log1p then standardise: spend and counts are heavily right-skewed, and k-means
    distances need comparable scales."""
    raw = features[list(columns)].astype(float)
    raw = raw.fillna(raw.median()).fillna(0.0).clip(lower=0)
    logged = np.log1p(raw.to_numpy())
    center = logged.mean(axis=0) if len(logged) else np.zeros(len(columns))
    scale = logged.std(axis=0) if len(logged) else np.ones(len(columns))
    scale = np.where(scale > 0, scale, 1.0)  # a constant column must not divide by zero
    return ScaledMatrix(
        values=(logged - center) / scale,
        index=features.index,
        columns=tuple(columns),
        center=center,
        scale=scale,
    )


def _kmeans(X: np.ndarray, k: int, random_state: int, n_init: int = 10) -> KMeans:
    return KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(X)


def choose_k(
    X: np.ndarray,
    k_range: Iterable[int] = range(3, 9),
    sample_size: int = 5000,
    min_share: float = 0.02,
    random_state: int = 0,
    n_init: int = 10,
) -> KSelection:
    """Best silhouette among the ks whose smallest cluster holds >= ``min_share`` of customers.

    Silhouette is computed on a sample because it is quadratic in customers. ``n_init``
    is the k-means restarts per k; the services pass fewer on large samples, where the
    best of three already gives the same curve as the best of ten.
    """
    n = len(X)
    distinct = len(np.unique(X, axis=0)) if n else 0
    candidates = [k for k in k_range if 2 <= k < n and k <= distinct]
    if not candidates:
        k = max(1, min(2, distinct))
        return KSelection(
            k=k,
            reason=f"Only {n:,} customers ({distinct:,} distinct); using k={k}.",
            silhouette={},
            smallest_share={},
        )
    silhouette: dict[int, float] = {}
    smallest: dict[int, float] = {}
    centroids: dict[int, np.ndarray] = {}
    # silhouette_score(X, labels, sample_size=..., random_state=...) draws the same
    # sample for every k: measure its pairwise distances once, not once per k.
    positions = np.random.RandomState(random_state).permutation(n)[: min(sample_size, n)]
    distances = cdist(X[positions], X[positions])
    for k in candidates:
        model = _kmeans(X, k, random_state, n_init)
        labels = model.labels_
        centroids[k] = model.cluster_centers_
        smallest[k] = float(np.bincount(labels, minlength=k).min() / n)
        silhouette[k] = silhouette_from_distances(distances, labels[positions])
    eligible = [k for k in candidates if smallest[k] >= min_share]
    if eligible:
        k = stable_best_k({c: silhouette[c] for c in eligible})
        best = max(silhouette[c] for c in eligible)
        if silhouette[k] < best:
            reason = (f"k={k} has a silhouette ({silhouette[k]:.3f}) within {SILHOUETTE_TIE} of "
                      f"the best ({best:.3f}) among the k whose clusters each hold at least "
                      f"{min_share:.0%} of customers; the fewest clusters win a tie.")
        else:
            reason = (f"k={k} has the best silhouette ({silhouette[k]:.2f}) among the k whose "
                      f"clusters each hold at least {min_share:.0%} of customers.")
    else:
        # Every k leaves a tiny cluster: fewer clusters are the least misleading choice.
        k = min(candidates)
        reason = (
            f"Every k left a cluster under {min_share:.0%} of customers; using the smallest, k={k}."
        )
    return KSelection(k=k, reason=reason, silhouette=silhouette, smallest_share=smallest,
                      centroids=centroids)


# Silhouettes closer than this are a tie (sampling noise is larger): the fewest clusters win.
SILHOUETTE_TIE = 0.01


def stable_best_k(silhouette: dict[int, float]) -> int:
    """The smallest k whose silhouette is within ``SILHOUETTE_TIE`` of the best.

    Taking the strict maximum let k jump between two near-equal peaks (4 and 7) when
    the data moved by a hair; fewer clusters are also easier to act on.
    """
    best = max(silhouette.values())
    return min(k for k, value in silhouette.items() if value >= best - SILHOUETTE_TIE)


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of ``labels`` given their pairwise ``distances`` (as scikit-learn's
    ``silhouette_score(..., metric="precomputed")``: 0 for members of one-point clusters).

    The distance sums from each point to each cluster are one matrix product with the
    one-hot labels, so each k costs a product instead of another distance matrix.
    """
    codes, labels = np.unique(labels, return_inverse=True)
    if not 2 <= len(codes) <= len(labels) - 1:
        raise ValueError(f"silhouette needs 2 to n - 1 clusters, got {len(codes)}")
    onehot = np.zeros((len(labels), len(codes)))
    onehot[np.arange(len(labels)), labels] = 1.0
    sums = distances @ onehot
    sizes = onehot.sum(axis=0)
    rows = np.arange(len(labels))
    own_size = sizes[labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = sums[rows, labels] / (own_size - 1)
        means = sums / sizes
    means[rows, labels] = np.inf
    nearest = means.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (nearest - inside) / np.maximum(inside, nearest)
    score = np.where(own_size > 1, np.nan_to_num(score), 0.0)
    return float(score.mean())


def fit_kmeans(
    matrix: ScaledMatrix, k: int, random_state: int = 0, init: np.ndarray | None = None
) -> ClusterFit:
    """K-means on every customer: ``n_init=10`` restarts, or one run from ``init``.

    ``init`` is the best centroids of a fit on a random sample (choose_k's): Lloyd
    iterations from there reach the full-data optimum in a few steps, where ten fresh
    k-means++ restarts on all customers cost ten full fits.
    """
    if init is not None and len(init) == k:
        model = KMeans(n_clusters=k, init=init, n_init=1, random_state=random_state).fit(
            matrix.values
        )
    else:
        model = _kmeans(matrix.values, k, random_state)
    # Number clusters by their centroids (by each column in turn, most recent first when
    # recency is a column), so equal fits give equal labels whatever k-means' own order.
    centers = model.cluster_centers_
    order = np.lexsort(np.round(centers, 9).T[::-1])
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    labels = relabel[model.labels_.astype(int)]
    centers = centers[order]
    ids = pd.Index(range(k), name="cluster")
    scaled = pd.DataFrame(centers, index=ids, columns=list(matrix.columns))
    original = pd.DataFrame(matrix.inverse(centers), index=ids, columns=list(matrix.columns))
    sizes = pd.Series(np.bincount(labels, minlength=k), index=ids, name="size")
    return ClusterFit(
        labels=labels,
        centroids_scaled=scaled,
        centroids=original,
        sizes=sizes,
        inertia=float(model.inertia_),
    )


def ward_on_sample(
    X: np.ndarray,
    k: int,
    *,
    kmeans_labels: np.ndarray,
    sample_size: int = 2000,
    random_state: int = 0,
) -> WardComparison:
    """Ward clustering on a sample (it is quadratic in memory) as a second opinion.

    A low adjusted Rand index means the k-means clusters are an artefact of the
    algorithm rather than structure in the data; the page shows it as a warning.
    """
    rng = np.random.default_rng(random_state)
    n = len(X)
    positions = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X[positions])
    agreement = adjusted_rand_score(np.asarray(kmeans_labels)[positions], labels)
    return WardComparison(sample_positions=positions, labels=labels, adjusted_rand=float(agreement))


def match_to_previous(
    new_centroids: pd.DataFrame, previous_centroids: pd.DataFrame
) -> dict[int, int]:
    """Map each new cluster label to a stable id so "cluster 2" means the same people each run.

    Both frames are scaled centroids in the same space (index = label / previous id).
    Hungarian assignment minimises the total centroid distance; new clusters beyond
    the previous count get fresh ids after the largest previous id.
    """
    if previous_centroids.empty:
        return {int(label): int(label) for label in new_centroids.index}
    cost = cdist(
        new_centroids.to_numpy(dtype=float),
        previous_centroids[list(new_centroids.columns)].to_numpy(dtype=float),
    )
    rows, cols = linear_sum_assignment(cost)
    mapping = {
        int(new_centroids.index[r]): int(previous_centroids.index[c]) for r, c in zip(rows, cols)
    }
    next_id = int(max(previous_centroids.index)) + 1
    for label in new_centroids.index:
        if int(label) not in mapping:
            mapping[int(label)] = next_id
            next_id += 1
    return mapping


# The grammar of the generated text below (names, descriptions, rules) is stored in
# English on each run's segments; segments/computed_text.py parses it back with these
# same constants to show it in the owner's language, so change them together.
#
# Names say what is true of the cluster's own members in absolute terms, never where
# they sit against other customers: "recent" in a shop whose customers all left a
# year ago would be false. A word needs its threshold; otherwise the name states the
# middle half of the members' values.
RECENT_MAX_DAYS = 90  # "recent": the members' median last order at most this many days ago
FREQUENT_MIN_ORDERS = 4  # "frequent": the members' median order count at least this
DAYS_PER_MONTH = 30.44
RECENT = "recent"
FREQUENT = "frequent"
# "last order 8–16 months ago", "last order 3 months ago", "2–3 orders", "1 order",
# "spend 20–45" (the last only when two clusters would otherwise share a name)
MONTHS_AGO = "last order {low}–{high} months ago"
MONTHS_AGO_ONE = "last order {n} months ago"
ORDERS_RANGE = "{low}–{high} orders"
ORDERS_ONE = "{n} orders"
ORDER_SINGLE = "1 order"
SPEND_RANGE = "spend {low}–{high}"
NAME_SEPARATOR = ", "
UNNAMED_CLUSTER = "Typical customers"
DESCRIPTION_PREFIX = "Typical member: "
DESCRIPTION_SEPARATOR = "; "
RULE_SEPARATOR = " and "
RULE_FOR_EVERYONE = "all customers"
# A cluster's rule is shown only when it both covers and selects mostly members; a
# rule that picks a third of them, or as many outsiders, would misdescribe the cluster.
RULE_MIN_COVERAGE = 0.7
RULE_MIN_PRECISION = 0.7
DESCRIBED_COLUMNS = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days")


def _number(value: float) -> str:
    if abs(value) >= 10 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _middle_half(values: pd.Series) -> tuple[float, float]:
    return float(values.quantile(0.25)), float(values.quantile(0.75))


def _recency_words(days: pd.Series) -> tuple[str, NameClaim]:
    if float(days.median()) <= RECENT_MAX_DAYS:
        return RECENT, NameClaim(fact="recency_days", high=RECENT_MAX_DAYS)
    low, high = (round(d / DAYS_PER_MONTH) for d in _middle_half(days))
    claim = NameClaim(fact="recency_months", low=low, high=high)
    if low == high:
        return MONTHS_AGO_ONE.format(n=high), claim
    return MONTHS_AGO.format(low=low, high=high), claim


def _order_words(orders: pd.Series) -> tuple[str, NameClaim]:
    if float(orders.median()) >= FREQUENT_MIN_ORDERS:
        return FREQUENT, NameClaim(fact="frequency", low=FREQUENT_MIN_ORDERS)
    # Counts are whole: the middle half's ends rounded outwards still hold it.
    low, high = _middle_half(orders)
    low, high = int(np.floor(low)), int(np.ceil(high))
    claim = NameClaim(fact="frequency", low=low, high=high)
    if low == high:
        return (ORDER_SINGLE if low == 1 else ORDERS_ONE.format(n=low)), claim
    return ORDERS_RANGE.format(low=low, high=high), claim


def _spend_words(spend: pd.Series) -> tuple[str, NameClaim]:
    low, high = _middle_half(spend)
    low, high = float(np.floor(low)), float(np.ceil(high))
    return (SPEND_RANGE.format(low=_number(low), high=_number(high)),
            NameClaim(fact="monetary", low=low, high=high))


def _join_name(parts: list[str]) -> str:
    text = NAME_SEPARATOR.join(parts)
    return text[:1].upper() + text[1:] if text else UNNAMED_CLUSTER


def name_part_pattern(template: str) -> re.Pattern[str]:
    """A name part's template (MONTHS_AGO ...) as a pattern over the stored English,
    its numbers in the groups `low`, `high` and `n`."""
    marked = template.format(low="LOWMARK", high="HIGHMARK", n="NMARK")
    pattern = re.escape(marked)
    for mark, group in (("LOWMARK", "low"), ("HIGHMARK", "high"), ("NMARK", "n")):
        pattern = pattern.replace(mark, rf"(?P<{group}>[\d,.]+)")
    return re.compile(rf"^{pattern}$")


def claims_untrue(claims: Sequence[NameClaim], facts: Mapping[str, float]) -> tuple[str, ...]:
    """The facts ("recency_days", "frequency", "monetary") on which one member differs
    from what their cluster's name claims, in the name's order.

    A name says what is true of the cluster's typical member (its median), so some
    members differ: a customer gone 200 days in a "Recent, frequent" cluster. Their
    page says so instead of letting the name contradict the facts beside it.
    """
    untrue: list[str] = []
    for claim in claims:
        column = "recency_days" if claim.fact == "recency_months" else claim.fact
        value = facts.get(column)
        if value is None or column in untrue:
            continue
        if column == "recency_days":
            # whole days passed, as every page counts them ("90 days ago" is recent)
            value = math.floor(value)
            if claim.fact == "recency_months":
                value = round(value / DAYS_PER_MONTH)
        if (claim.low is not None and value < claim.low) or (
                claim.high is not None and value > claim.high):
            untrue.append(column)
    return tuple(untrue)


def cluster_names(
    features: pd.DataFrame, labels: Sequence[int] | np.ndarray
) -> dict[int, CentroidDescription]:
    """A name and a description per cluster, from its members' own facts.

    The name is the recency part and the orders part; clusters that would share a
    name get their spend range too, and any left equal a " (2)", " (3)" in label
    order. The description gives the members' medians beside the whole shop's.
    """
    labels = np.asarray(labels, dtype=int)
    # Every label up to the largest: a cluster k-means left empty is named too.
    members = {label: features[labels == label] for label in range(labels.max(initial=-1) + 1)}
    parts: dict[int, list[tuple[str, NameClaim]]] = {}
    for label, rows in members.items():
        parts[label] = [
            words(rows[column].dropna())
            for column, words in (("recency_days", _recency_words), ("frequency", _order_words))
            if column in rows.columns and rows[column].notna().any()
        ]
    names = {label: _join_name([text for text, _ in p]) for label, p in parts.items()}
    for label, rows in members.items():
        shared = sum(1 for other in names.values() if other == names[label]) > 1
        if shared and "monetary" in rows.columns and rows["monetary"].notna().any():
            parts[label] = [*parts[label], _spend_words(rows["monetary"].dropna())]
    names = {label: _join_name([text for text, _ in p]) for label, p in parts.items()}
    seen: dict[str, int] = {}
    result: dict[int, CentroidDescription] = {}
    for label in sorted(members):
        name = names[label]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        result[label] = CentroidDescription(
            name=name, description=_describe(members[label], features, fallback=name),
            claims=tuple(claim for _, claim in parts[label]),
        )
    return result


def _describe(rows: pd.DataFrame, features: pd.DataFrame, *, fallback: str) -> str:
    sentences = []
    for column in DESCRIBED_COLUMNS:
        if column not in rows.columns or rows[column].notna().sum() == 0:
            continue
        label, unit = FRIENDLY_NAMES[column]
        value, median = float(rows[column].median()), float(features[column].median())
        sentences.append(f"{label} {_number(value)}{unit} (median {_number(median)})")
    if not sentences:
        return fallback
    return DESCRIPTION_PREFIX + DESCRIPTION_SEPARATOR.join(sentences) + "."


def _condition_text(column: str, threshold: float, is_left: bool, integer: bool) -> str:
    label, unit = FRIENDLY_NAMES.get(column, (column, ""))
    if integer:
        # Integer feature: "<= 3.5" reads better as "<= 3", and "> 3.5" as ">= 4".
        bound = int(np.floor(threshold))
        return f"{label} ≤ {bound}{unit}" if is_left else f"{label} ≥ {bound + 1}{unit}"
    op = "≤" if is_left else ">"
    return f"{label} {op} {_number(threshold)}{unit}"


def _leaf_paths(tree: DecisionTreeClassifier) -> dict[int, list[tuple[int, float, bool]]]:
    t = tree.tree_
    paths: dict[int, list[tuple[int, float, bool]]] = {}
    stack: list[tuple[int, list[tuple[int, float, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = path
            continue
        feature, threshold = int(t.feature[node]), float(t.threshold[node])
        stack.append((t.children_left[node], [*path, (feature, threshold, True)]))
        stack.append((t.children_right[node], [*path, (feature, threshold, False)]))
    return paths


def _simplify(path: list[tuple[int, float, bool]]) -> list[tuple[int, float, bool]]:
    # Keep only the tightest bound per feature and side: "orders >= 2 and orders >= 4"
    # says no more than "orders >= 4".
    tightest: dict[tuple[int, bool], float] = {}
    for feature, threshold, is_left in path:
        key = (feature, is_left)
        if key not in tightest:
            tightest[key] = threshold
        else:
            tightest[key] = (
                min(tightest[key], threshold) if is_left else max(tightest[key], threshold)
            )
    return [(f, t, left) for (f, left), t in tightest.items()]


def cluster_rules(
    features: pd.DataFrame,
    labels: Sequence[int] | np.ndarray,
    *,
    columns: Sequence[str] | None = None,
    max_depth: int = 3,
    random_state: int = 0,
    fit_sample: int | None = None,
) -> dict[int, ClusterRule]:
    """A one-line rule per cluster from a shallow decision tree on the raw features.

    For each cluster the rule is the tree leaf holding most of its members; coverage
    and precision say how faithful that summary is, measured on every customer even
    when the tree learnt its few splits from a random ``fit_sample`` of them.
    """
    columns = list(columns or [c for c in features.columns if features[c].notna().all()])
    X = features[columns].to_numpy(dtype=float)
    y = np.asarray(labels)
    integer = [bool(np.all(np.mod(X[:, j], 1) == 0)) for j in range(X.shape[1])]
    learn = np.arange(len(y))
    if fit_sample is not None and len(y) > fit_sample:
        learn = np.sort(np.random.default_rng(random_state).choice(len(y), fit_sample,
                                                                   replace=False))
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state).fit(
        X[learn], y[learn])
    leaf_of = tree.apply(X)
    paths = _leaf_paths(tree)
    rules: dict[int, ClusterRule] = {}
    for label in np.unique(y):
        members = y == label
        best_leaf, best_key = None, (-1, -1.0)
        for leaf in paths:
            in_leaf = leaf_of == leaf
            hits = int((in_leaf & members).sum())
            key = (hits, hits / max(int(in_leaf.sum()), 1))
            if key > best_key:
                best_leaf, best_key = leaf, key
        in_leaf = leaf_of == best_leaf
        hits = int((in_leaf & members).sum())
        conditions = tuple(
            _condition_text(columns[f], t, left, integer[f])
            for f, t, left in _simplify(paths[best_leaf])
        )
        rules[int(label)] = ClusterRule(
            label=int(label),
            text=RULE_SEPARATOR.join(conditions) if conditions else RULE_FOR_EVERYONE,
            conditions=conditions,
            coverage=hits / int(members.sum()),
            precision=hits / int(in_leaf.sum()),
            support=int(in_leaf.sum()),
        )
    return rules
