from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.analysis.baskets import mine_rules
from segments.analysis.recommendations import RECOMMENDATION_COLUMNS, recommend

# Scores (confidence × lift): 1 → 2: 1.0; {1, 3} → 4: 2.4; 3 → 2: 1.35.
# The two-product consequent must be ignored, however strong.
RULES = pd.DataFrame(
    {
        "antecedents": [(1,), (1, 3), (3,), (1,)],
        "consequents": [(2,), (4,), (2,), (5, 6)],
        "confidence": [0.5, 0.8, 0.9, 0.9],
        "lift": [2.0, 3.0, 1.5, 10.0],
    }
)
POPULARITY = pd.Series({2: 50, 9: 40, 1: 30, 8: 20})


def bought(pairs: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(customer, product) for customer, products in pairs.items() for product in products],
        columns=["customer_id", "product_id"],
    )


def test_recommendations_follow_the_best_fitting_rule_then_popularity():
    customers = bought({"ann": [1, 3], "bob": [1, 2], "cat": [3]})

    result = recommend(customers, RULES, POPULARITY, top_n=3)

    assert list(result.columns) == RECOMMENDATION_COLUMNS
    assert result.to_dict("records") == [
        # ann has both 1 and 3: rule {1,3} → 4 fits; 2 scores max(1.0, 1.35) via 3 → 2
        {
            "customer_id": "ann",
            "product_id": 4,
            "rank": 1,
            "score": pytest.approx(2.4),
            "source": "rule",
            "rule_antecedent": (1, 3),
        },
        {
            "customer_id": "ann",
            "product_id": 2,
            "rank": 2,
            "score": pytest.approx(1.35),
            "source": "rule",
            "rule_antecedent": (3,),
        },
        {
            "customer_id": "ann",
            "product_id": 9,
            "rank": 3,
            "score": 0.0,
            "source": "popular",
            "rule_antecedent": None,
        },
        # bob already has 2 and lacks 3: no rule suggests anything new; only two popular
        # products are left that he has not bought
        {
            "customer_id": "bob",
            "product_id": 9,
            "rank": 1,
            "score": 0.0,
            "source": "popular",
            "rule_antecedent": None,
        },
        {
            "customer_id": "bob",
            "product_id": 8,
            "rank": 2,
            "score": 0.0,
            "source": "popular",
            "rule_antecedent": None,
        },
        {
            "customer_id": "cat",
            "product_id": 2,
            "rank": 1,
            "score": pytest.approx(1.35),
            "source": "rule",
            "rule_antecedent": (3,),
        },
        {
            "customer_id": "cat",
            "product_id": 9,
            "rank": 2,
            "score": 0.0,
            "source": "popular",
            "rule_antecedent": None,
        },
        {
            "customer_id": "cat",
            "product_id": 1,
            "rank": 3,
            "score": 0.0,
            "source": "popular",
            "rule_antecedent": None,
        },
    ]


def test_without_rules_every_customer_gets_the_most_popular_unbought_products():
    customers = bought({"ann": [2], "bob": [9, 8]})
    no_rules = RULES.iloc[:0]

    result = recommend(customers, no_rules, POPULARITY, top_n=2)

    assert set(result["source"]) == {"popular"}
    assert result.groupby("customer_id")["product_id"].agg(list).to_dict() == {
        "ann": [9, 1],
        "bob": [2, 1],
    }


def test_a_customer_who_bought_most_bestsellers_still_gets_the_next_ones():
    popularity = pd.Series({p: 1000 - p for p in range(1, 101)})
    customers = bought({"fan": list(range(1, 41)), "newbie": [1]})

    result = recommend(customers, RULES.iloc[:0], popularity, top_n=3)

    assert result.groupby("customer_id")["product_id"].agg(list).to_dict() == {
        "fan": [41, 42, 43],
        "newbie": [2, 3, 4],
    }


def test_no_customer_ever_gets_a_product_they_already_bought():
    text = (Path(__file__).parents[2] / "data" / "online_retail_baskets.txt").read_text()
    lines = [line.split(",") for line in text.splitlines()[:3000]]
    codes = {c: i for i, c in enumerate(sorted({c for line in lines for c in line}))}
    # treat each basket as one customer's history
    customers = pd.DataFrame(
        [(f"c{n}", codes[c]) for n, line in enumerate(lines) for c in line],
        columns=["customer_id", "product_id"],
    )
    baskets = customers.rename(columns={"customer_id": "order_id"})
    rules = mine_rules(baskets, min_support=0.01, min_confidence=0.1).rules
    popularity = baskets.drop_duplicates().groupby("product_id").size()

    result = recommend(customers, rules, popularity, top_n=5, chunk_size=700)

    already = result.merge(customers.drop_duplicates(), on=["customer_id", "product_id"])
    assert len(rules) > 20
    assert already.empty
    assert (result["source"] == "rule").sum() > 1000
    assert result.groupby("customer_id").size().eq(5).all()
    assert result["customer_id"].nunique() == customers["customer_id"].nunique()
    assert not result.duplicated(["customer_id", "product_id"]).any()
    assert result["rank"].eq(result.groupby("customer_id").cumcount() + 1).all()
    scores = result[result["source"] == "rule"].groupby("customer_id")["score"]
    assert scores.apply(lambda s: s.is_monotonic_decreasing).all()


def test_no_purchases_give_no_recommendations():
    result = recommend(bought({}), RULES, POPULARITY)

    assert result.empty
    assert list(result.columns) == RECOMMENDATION_COLUMNS


@pytest.mark.parametrize("top_n", [1, 2])
def test_top_n_limits_the_suggestions_per_customer(top_n):
    result = recommend(bought({"ann": [1, 3]}), RULES, POPULARITY, top_n=top_n)

    assert result["product_id"].tolist() == [4, 2][:top_n]
    assert np.array_equal(result["rank"], np.arange(1, top_n + 1))
