import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import LatentDirichletAllocation

from segments.analysis.interests import default_topic_count, doc_topics, find_interests, fit_topics

TEA = ["tea", "teapot", "mugs"]
YARN = ["yarn", "needles", "wool"]


def _counts() -> pd.DataFrame:
    rows = []
    for customer in range(20):
        terms = TEA if customer < 10 else YARN
        rows += [(customer, term, 1 + (customer + i) % 3) for i, term in enumerate(terms)]
    return pd.DataFrame(rows, columns=["customer_id", "term", "count"])


def test_two_clear_interests_become_two_topics_named_by_their_terms():
    result = find_interests(_counts(), n_topics=2)

    topic_terms = [{t for t, _ in topic.top_terms} for topic in result.topics]
    assert sorted(map(sorted, topic_terms)) == [sorted(TEA), sorted(YARN)]
    assert all(" & " in topic.name for topic in result.topics)
    assert all(len(topic.name.split(" & ")) == 2 for topic in result.topics)


def test_each_customers_strongest_interest_is_the_topic_of_what_they_buy():
    result = find_interests(_counts(), n_topics=2)
    tea_topic = next(t.topic_id for t in result.topics if t.top_terms[0][0] in TEA)

    top = result.customer_interests.query("rank == 1").set_index("customer_id")["topic_id"]

    assert len(top) == 20
    assert all((top[c] == tea_topic) == (c < 10) for c in top.index)
    assert (result.customer_interests.query("rank == 1")["weight"] > 0.8).all()


def test_topic_term_weights_are_shares_in_descending_order():
    result = find_interests(_counts(), n_topics=2)

    for topic in result.topics:
        weights = [w for _, w in topic.top_terms]
        assert weights == sorted(weights, reverse=True)
        assert 0 < sum(weights) <= 1.0


def test_the_default_topic_count_stays_small_for_small_shops():
    assert default_topic_count(customers=20, terms=6) == 3
    assert default_topic_count(customers=10_000, terms=500) == 6
    assert default_topic_count(customers=2, terms=1) == 1


def test_a_single_customer_with_a_single_term_gets_one_topic():
    counts = pd.DataFrame({"customer_id": [1], "term": ["tea"], "count": [3]})

    result = find_interests(counts)

    assert [t.name for t in result.topics] == ["tea"]
    assert result.customer_interests[["customer_id", "rank", "topic_id"]].values.tolist() == [
        [1, 1, 0]
    ]


def test_no_purchases_give_no_topics():
    counts = pd.DataFrame({"customer_id": [1], "term": ["tea"], "count": [0]})

    result = find_interests(counts)

    assert result.topics == ()
    assert result.customer_interests.empty


def _random_counts(customers: int = 300, terms: int = 8) -> np.ndarray:
    rng = np.random.default_rng(5)
    return rng.poisson(rng.gamma(0.5, 2.0, size=(customers, terms))).astype(float)


def test_fitted_topics_equal_scikit_learns_batch_lda():
    X = _random_counts()

    components = fit_topics(X, 4, max_iter=20, random_state=0)

    reference = LatentDirichletAllocation(
        n_components=4, learning_method="batch", max_iter=20, random_state=0
    ).fit(X)
    assert components == pytest.approx(reference.components_, rel=1e-5)


def test_every_customers_topics_equal_scikit_learns_transform():
    X = _random_counts()
    reference = LatentDirichletAllocation(n_components=4, random_state=0).fit(X)

    shares = doc_topics(X, reference.components_)

    assert shares == pytest.approx(reference.transform(X), abs=1e-6)


def test_topics_learnt_on_a_sample_still_give_every_customer_an_interest():
    result = find_interests(_counts(), n_topics=2, fit_sample=8)

    top = result.customer_interests.query("rank == 1")
    assert sorted(top["customer_id"]) == list(range(20))
