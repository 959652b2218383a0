"""Next-product recommendations from basket rules, with a popularity fallback.

For every customer: products they have not bought, suggested by the rules whose
antecedents they have all bought, best first; remaining slots (all of them when no rule
fits) go to the most popular products they have not bought.

Matching is a sparse matrix product: customers × products (bought) times products ×
rules (antecedents) counts, per customer and rule, how many antecedent products the
customer has; a rule fits where that count equals the antecedent size. Customers are
processed in chunks so memory stays bounded for 100k+ customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

RECOMMENDATION_COLUMNS = ["customer_id", "product_id", "rank", "score", "source", "rule_antecedent"]
DEFAULT_TOP_N = 5
DEFAULT_CHUNK_SIZE = 20_000
FIRST_RULE_BATCH = 64


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=object),
            "product_id": pd.Series(dtype=np.int64),
            "rank": pd.Series(dtype=np.int64),
            "score": pd.Series(dtype=float),
            "source": pd.Series(dtype=object),
            "rule_antecedent": pd.Series(dtype=object),
        }
    )


def _rule_candidates(
    bought: sparse.csr_matrix,
    bought_keys: np.ndarray,
    rules: pd.DataFrame,
    vocabulary: pd.Index,
    *,
    top_n: int,
    chunk_size: int,
) -> pd.DataFrame:
    """Best ``top_n`` rule suggestions per customer code: customer, product, score, rule."""
    columns = ["customer", "product", "score", "rule"]
    # Only single-product consequents: a rule "A → B, C" has the confidence of buying B and
    # C together, which says little about B alone; "A → B" exists whenever "A → B, C" does
    # (every subset of a frequent itemset is frequent) and measures B directly.
    single = rules[rules["consequents"].map(len).to_numpy() == 1]
    if single.empty:
        return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in columns})
    # Max, not sum, over fitting rules: rules mined from overlapping itemsets repeat the
    # same evidence, so summing would favour products that happen to appear in many
    # redundant rules over one strong rule. confidence × lift rewards rules that are both
    # likely and specific (lift alone favours rare products; confidence alone, bestsellers).
    score = (single["confidence"] * single["lift"]).to_numpy(float)
    by_score = np.argsort(-score, kind="stable")  # ties keep the rules' own order (lift)
    single = single.iloc[by_score]
    score = score[by_score]
    rule_count = len(single)
    antecedent_lengths = single["antecedents"].map(len).to_numpy()
    antecedent_products = vocabulary.get_indexer(np.concatenate(list(single["antecedents"])))
    antecedents = sparse.csc_matrix(
        (
            np.ones(antecedent_products.size, dtype=np.int32),
            (antecedent_products, np.repeat(np.arange(rule_count), antecedent_lengths)),
        ),
        shape=(len(vocabulary), rule_count),
    )
    consequent = vocabulary.get_indexer(single["consequents"].map(lambda c: c[0]).to_numpy())
    n_products = np.int64(len(vocabulary))
    taken = np.sort(bought_keys)  # bought, and later also already suggested

    # Rules are visited best score first, so the first rule suggesting a product to a
    # customer carries that product's max score, and a customer is finished as soon as
    # they hold top_n products. Batches grow geometrically: few rounds, and customers with
    # many fitting rules (the expensive ones) drop out after the first small batches.
    have = np.zeros(bought.shape[0], dtype=np.int64)
    active = np.arange(bought.shape[0])
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start, size = 0, FIRST_RULE_BATCH
    while start < rule_count and active.size:
        stop = min(start + size, rule_count)
        batch = antecedents[:, start:stop]
        lengths = antecedent_lengths[start:stop]
        batch_keys: list[np.ndarray] = []
        for chunk_start in range(0, active.size, chunk_size):
            chunk = active[chunk_start : chunk_start + chunk_size]
            matched = (bought[chunk] @ batch).tocoo()
            fits = matched.data == lengths[matched.col]
            customers = chunk[matched.row[fits]].astype(np.int64)
            rule = matched.col[fits].astype(np.int64) + start
            order = np.lexsort((rule, customers))
            customers, rule = customers[order], rule[order]
            keys = customers * n_products + consequent[rule]
            # first occurrence per (customer, product) = its best rule in this batch
            _, first = np.unique(keys, return_index=True)
            first = np.sort(first)
            customers, rule, keys = customers[first], rule[first], keys[first]
            position = np.minimum(np.searchsorted(taken, keys), taken.size - 1)
            new = taken[position] != keys
            customers, rule, keys = customers[new], rule[new], keys[new]
            # rank within the customer's rows (still customer-major, best rule first)
            group_start = np.searchsorted(customers, customers)
            keep = have[customers] + np.arange(customers.size) - group_start < top_n
            customers, rule, keys = customers[keep], rule[keep], keys[keep]
            found.append((customers, consequent[rule], rule))
            batch_keys.append(keys)
            have += np.bincount(customers, minlength=have.size)
        taken = np.sort(np.concatenate([taken, *batch_keys]))
        active = active[have[active] < top_n]
        start, size = stop, size * 2

    customers, products, rule = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.lexsort((rule, customers))
    customers, products, rule = customers[order], products[order], rule[order]
    return pd.DataFrame(
        {
            "customer": customers,
            "product": products,
            "score": score[rule],
            "rule": single["antecedents"].to_numpy()[rule],
        }
    )


def _popular_fill(
    need: pd.Series,
    taken_keys: np.ndarray,
    popularity: pd.Series,
    vocabulary: pd.Index,
) -> pd.DataFrame:
    """Most popular untaken products for customers (codes) needing ``need`` more each."""
    ranked = popularity[popularity > 0]
    ranked = (
        ranked.rename_axis("product")
        .reset_index(name="orders")
        .sort_values(["orders", "product"], ascending=[False, True])["product"]
    )
    ranked_codes = vocabulary.get_indexer(ranked.to_numpy())
    n_products = len(vocabulary)
    taken_keys = np.sort(taken_keys)
    filled: list[pd.DataFrame] = []
    # Look at the top `width` products first; only customers who had bought most of them
    # need a wider look, so typical runs make one pass.
    width = max(2 * int(need.max()) if len(need) else 0, 8)
    while not need.empty and ranked_codes.size:
        top = ranked_codes[:width]
        customers = np.repeat(need.index.to_numpy(), top.size)
        products = np.tile(top, need.size)
        keys = customers * n_products + products
        # taken_keys is sorted: a binary search per key is exact and far cheaper than
        # np.isin, which hashes both arrays (seconds at 100k customers).
        if taken_keys.size:
            position = np.minimum(np.searchsorted(taken_keys, keys), taken_keys.size - 1)
            fresh = taken_keys[position] != keys
        else:
            fresh = np.ones(keys.size, dtype=bool)
        # Rows are customer by customer, each in popularity order, so cumcount is the rank.
        found = pd.DataFrame({"customer": customers[fresh], "product": products[fresh]})
        wanted = need.loc[found["customer"]].to_numpy()
        found = found[found.groupby("customer").cumcount().to_numpy() < wanted]
        got = found.groupby("customer").size().reindex(need.index, fill_value=0)
        done = (got >= need) | (width >= ranked_codes.size)
        filled.append(found[found["customer"].isin(need.index[done])])
        need = need[~done]
        width *= 4
    if not filled:
        return pd.DataFrame(columns=["customer", "product"])
    return pd.concat(filled, ignore_index=True)


def recommend(
    customer_products: pd.DataFrame,
    rules: pd.DataFrame,
    popularity: pd.Series,
    *,
    top_n: int = DEFAULT_TOP_N,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """Up to ``top_n`` products per customer that the customer has not bought yet.

    ``customer_products``: customer_id, product_id of everything each customer bought.
    ``rules``: ``RuleMiningResult.rules`` (antecedents, consequents, confidence, lift).
    ``popularity``: product_id → order count.

    Returns customer_id, product_id, rank (1 = best), score, source, rule_antecedent.
    Rule suggestions (source "rule") come first, scored confidence × lift of the best
    fitting rule (max over rules; ``rule_antecedent`` is that rule's antecedents). Free
    slots are filled with the most popular unbought products (source "popular", score
    0.0 because no rule speaks for them, rule_antecedent None). Customers without any
    purchase do not appear in ``customer_products`` and so get nothing: the caller knows
    whether to show them bestsellers.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    bought_lines = customer_products[["customer_id", "product_id"]].dropna()
    bought_lines = bought_lines.astype({"product_id": np.int64}).drop_duplicates()
    if bought_lines.empty:
        return _empty()

    rule_products = (
        np.concatenate([*rules["antecedents"], *rules["consequents"]])
        if len(rules)
        else np.empty(0, dtype=np.int64)
    )
    vocabulary = pd.Index(
        np.unique(
            np.concatenate(
                [
                    bought_lines["product_id"].to_numpy(),
                    rule_products.astype(np.int64),
                    popularity.index.to_numpy(dtype=np.int64),
                ]
            )
        )
    )
    customer_codes, customers = pd.factorize(bought_lines["customer_id"], sort=True)
    product_codes = vocabulary.get_indexer(bought_lines["product_id"].to_numpy())
    bought = sparse.csr_matrix(
        (np.ones(customer_codes.size, dtype=np.int32), (customer_codes, product_codes)),
        shape=(len(customers), len(vocabulary)),
    )
    n_products = len(vocabulary)
    bought_keys = customer_codes.astype(np.int64) * n_products + product_codes

    from_rules = _rule_candidates(
        bought, bought_keys, rules, vocabulary, top_n=top_n, chunk_size=chunk_size
    )
    from_rules["source"] = "rule"
    have = from_rules.groupby("customer").size().reindex(range(len(customers)), fill_value=0)
    need = (top_n - have)[lambda n: n > 0]
    suggested_keys = from_rules["customer"].to_numpy(np.int64) * n_products + from_rules[
        "product"
    ].to_numpy(np.int64)
    taken = np.concatenate([bought_keys, suggested_keys])
    popular = _popular_fill(need, taken, popularity, vocabulary)
    popular = popular.assign(score=0.0, rule=None, source="popular")

    # Rule rows keep their score order, popular rows their popularity order after them.
    from_rules["order"] = from_rules.groupby("customer").cumcount()
    popular["order"] = popular.groupby("customer").cumcount() + top_n
    result = pd.concat([from_rules, popular], ignore_index=True)
    result = result.sort_values(["customer", "order"], ignore_index=True)
    return pd.DataFrame(
        {
            "customer_id": customers.to_numpy()[result["customer"].to_numpy(np.int64)],
            "product_id": vocabulary[result["product"].to_numpy(np.int64)].to_numpy(np.int64),
            "rank": result.groupby("customer").cumcount().to_numpy() + 1,
            "score": result["score"].to_numpy(float),
            "source": result["source"].to_numpy(object),
            "rule_antecedent": result["rule"].to_numpy(object),
        },
        columns=RECOMMENDATION_COLUMNS,
    )
