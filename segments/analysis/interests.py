"""Customer interests as LDA topics over what they buy.

Input is long: ``customer_id, term, count`` where a term is a product category or a
word from product names. Each topic is named by its top terms, and each customer
gets their strongest topics. LDA suits counts (unlike k-means on shares) and lets a
customer belong to several interests at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import LatentDirichletAllocation

MAX_TOPICS = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class Topic:
    topic_id: int
    name: str
    top_terms: tuple[tuple[str, float], ...]  # (term, share of the topic's weight)


@dataclass(frozen=True, kw_only=True, slots=True)
class InterestResult:
    topics: tuple[Topic, ...]
    # Long frame: customer_id, rank (1 = strongest), topic_id, weight (topic share, sums to 1 per customer)
    customer_interests: pd.DataFrame


def default_topic_count(customers: int, terms: int) -> int:
    # Topics need several customers each and cannot outnumber the terms that define them.
    return max(1, min(MAX_TOPICS, terms // 2, customers // 5))


def find_interests(
    counts: pd.DataFrame,
    *,
    n_topics: int | None = None,
    top_terms: int = 3,
    name_terms: int = 2,
    interests_per_customer: int = 2,
    min_weight: float = 0.2,
    random_state: int = 0,
) -> InterestResult:
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="int64"),
            "rank": pd.Series(dtype="int64"),
            "topic_id": pd.Series(dtype="int64"),
            "weight": pd.Series(dtype=float),
        }
    )
    positive = counts.loc[counts["count"] > 0]
    if positive.empty:
        return InterestResult(topics=(), customer_interests=empty)
    matrix = positive.pivot_table(
        index="customer_id", columns="term", values="count", aggfunc="sum", fill_value=0
    )
    terms = matrix.columns.astype(str).to_numpy()
    k = n_topics or default_topic_count(*matrix.shape)
    k = max(1, min(k, len(terms)))
    lda = LatentDirichletAllocation(
        n_components=k, learning_method="batch", max_iter=50, random_state=random_state
    )
    doc_topic = lda.fit_transform(matrix.to_numpy(dtype=float))
    topic_term = lda.components_ / lda.components_.sum(axis=1, keepdims=True)

    topics = []
    for topic_id, weights in enumerate(topic_term):
        best = np.argsort(-weights, kind="stable")[:top_terms]
        top = tuple((str(terms[j]), float(weights[j])) for j in best)
        topics.append(
            Topic(topic_id=topic_id, name=" & ".join(t for t, _ in top[:name_terms]), top_terms=top)
        )

    rows = []
    for customer_id, weights in zip(matrix.index, doc_topic):
        ranked = np.argsort(-weights, kind="stable")[:interests_per_customer]
        # The first interest is always kept so every buyer has one; later ones only if strong.
        kept = [t for i, t in enumerate(ranked) if i == 0 or weights[t] >= min_weight]
        rows += [
            (customer_id, rank, int(t), float(weights[t])) for rank, t in enumerate(kept, start=1)
        ]
    interests = pd.DataFrame(rows, columns=["customer_id", "rank", "topic_id", "weight"])
    return InterestResult(topics=tuple(topics), customer_interests=interests)
