from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.analysis.clv import (
    POOR_FIT_SHARE,
    BgNbdParams,
    CountModel,
    GammaGammaParams,
    MbgNbdParams,
    ModelCheck,
    ParetoNbdParams,
    SpendProblem,
    count_reading,
    customer_lifetime_value,
    estimate_clv,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_count_model,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    holdout_validation,
    p_alive,
    spend_reading,
    summary_from_orders,
)
from tests.segments.analysis.clv_simulation import mbgnbd_orders, pareto_orders

DATA = Path(__file__).resolve().parents[2] / "data"
PAPER = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary.csv").set_index("ID")


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_id": range(len(raw)),
            "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "net_total": raw["value"],
        }
    )


def _close(actual: float, expected: float) -> bool:
    return abs(actual - expected) <= max(0.01 * abs(expected), 0.005)


def test_bgnbd_reproduces_the_published_cdnow_parameters(cdnow_summary):
    params = fit_bgnbd(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])

    assert _close(params.r, 0.243)
    assert _close(params.alpha, 4.414)
    assert _close(params.a, 0.793)
    assert _close(params.b, 2.426)
    assert params.log_likelihood == pytest.approx(-9582.4, abs=0.5)


def test_gamma_gamma_reproduces_the_published_cdnow_parameters():
    data = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")

    fit = fit_gamma_gamma(data["x"], data["zbar"])
    params = fit.params

    assert (data["x"] > 0).sum() == 946
    assert fit.problem is None
    assert _close(params.p, 6.25)
    assert _close(params.q, 3.74)
    assert _close(params.v, 15.44)


def test_summary_rebuilt_from_cdnow_transactions_matches_the_published_summary(
    cdnow_orders, cdnow_summary
):
    summary = summary_from_orders(cdnow_orders, calibration_end=pd.Timestamp("1997-09-30"))

    joined = summary.join(cdnow_summary.add_suffix("_ref"), how="inner")
    assert len(joined) == len(cdnow_summary) == 2357
    assert (joined["frequency"] == joined["frequency_ref"]).all()
    # The published file rounds to two decimals.
    assert (joined["recency"] - joined["recency_ref"]).abs().max() < 0.006
    assert (joined["T"] - joined["T_ref"]).abs().max() < 0.006


def test_summary_counts_several_orders_on_one_day_as_one_purchase():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "order_id": [1, 2, 3],
            "ordered_at": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-15 10:00"]
            ),
            "net_total": [10.0, 5.0, 40.0],
        }
    )

    summary = summary_from_orders(orders, calibration_end=pd.Timestamp("2024-01-29"))

    assert summary.loc[1].to_dict() == {
        "frequency": 1,
        "recency": 2.0,
        "T": 4.0,
        "monetary_value": 40.0,
    }


def test_expected_purchases_match_the_papers_worked_example():
    # Fader, Hardie & Lee (2005): customer 1 (x=2, t_x=30.43, T=38.86) expects 1.226 purchases in 39 weeks.
    assert expected_purchases(39, PAPER, [2], [30.43], [38.86])[0] == pytest.approx(
        1.226, abs=0.001
    )


def test_expected_purchases_grow_with_the_horizon_from_zero():
    values = [expected_purchases(t, PAPER, [2], [30.43], [38.86])[0] for t in (0, 10, 20, 40)]

    assert values[0] == pytest.approx(0.0)
    assert values == sorted(values)


def test_p_alive_matches_the_closed_form_by_hand():
    params = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=2.0, log_likelihood=0.0)

    # 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) = 1 / (1 + 1/2 * 4)
    assert p_alive(params, [1], [1.0], [3.0])[0] == pytest.approx(1 / 3)


def test_bgnbd_counts_customers_without_repeat_purchases_as_certainly_alive():
    # Why BG/NBD is compared but never chosen.
    assert p_alive(PAPER, [0, 0], [0.0, 0.0], [30.0, 600.0]).tolist() == [1.0, 1.0]


def test_a_long_silence_lowers_p_alive():
    recent, silent = p_alive(PAPER, [3, 3], [29.0, 5.0], [30.0, 30.0])

    assert recent > silent


def test_expected_average_value_shrinks_towards_the_population_mean():
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0, log_likelihood=0.0)

    one_time, repeat = expected_average_value(params, [0, 2], [0.0, 100.0])

    assert one_time == pytest.approx(6.0 * 15.0 / 3.0)  # p v / (q - 1) = 30
    assert repeat == pytest.approx(6.0 * (15.0 + 200.0) / (12.0 + 3.0))  # 86
    assert one_time < repeat < 100.0


def test_repeat_purchases_that_netted_below_zero_never_make_a_future_purchase_worth_less():
    # An exchange exported as one order (one item in, two returned) nets -$50: the
    # spend model is of amounts above zero, and no purchase is worth less than nothing.
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0, log_likelihood=0.0)

    negative, nothing = expected_average_value(params, [2, 2], [-50.0, 0.0])

    assert negative == nothing == pytest.approx(6.0 * 15.0 / (12.0 + 3.0))


def test_too_few_repeat_buyers_give_a_reason_instead_of_numbers():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "order_id": [1, 2, 3],
            "ordered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-10"]),
            "net_total": [10.0, 20.0, 30.0],
        }
    )

    result = estimate_clv(orders)

    assert result.enough_history is False
    assert result.repeat_buyers == 1
    assert "Only 1 customers" in result.reason
    assert result.customers is None and result.count_params is None


def test_lifetime_value_is_expected_purchases_times_value_and_discounting_lowers_it(cdnow_orders):
    result = estimate_clv(cdnow_orders, as_of=pd.Timestamp("1997-09-30"))
    customers = result.customers

    assert result.enough_history is True
    assert len(customers) == 2357
    np.testing.assert_allclose(
        customers["clv"],
        customers["expected_purchases"] * customers["expected_average_value"],
        rtol=1e-9,
    )
    discounted = customer_lifetime_value(
        result.count_params, result.spend.params, customers, annual_discount_rate=0.10
    )
    assert (discounted < customers["clv"]).all()
    assert (discounted > 0.9 * customers["clv"]).all()


def test_holdout_predictions_track_actual_repeat_purchases_by_frequency(cdnow_orders):
    validation = holdout_validation(
        cdnow_orders, pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    )

    assert validation.holdout_periods == pytest.approx(39.0)
    assert [c.model for c in validation.checks] == list(CountModel)
    assert validation.chosen in (CountModel.MBGNBD, CountModel.PARETO)
    for check in validation.checks:
        table = check.by_frequency
        assert table["frequency"].tolist() == list(range(8))
        assert table["customers"].sum() == 2357
        assert table["predicted"].is_monotonic_increasing
        assert np.corrcoef(table["predicted"], table["actual"])[0, 1] > 0.95
        assert check.predicted_total == pytest.approx(check.actual_total, rel=0.2)
        assert not check.misses_badly
    # The chosen model's error is the smallest of the two it was chosen from.
    chosen = validation.chosen_check
    assert chosen.rmse == min(validation.check(m).rmse for m in (CountModel.MBGNBD, CountModel.PARETO))


@pytest.mark.parametrize(
    ("model", "point"),
    [
        (CountModel.BGNBD, [0.3, 4.0, 0.7, 2.5]),
        (CountModel.MBGNBD, [0.5, 6.0, 0.9, 1.6]),
        (CountModel.PARETO, [0.5, 9.0, 0.7, 12.0]),  # alpha < beta
        (CountModel.PARETO, [0.5, 13.0, 0.7, 9.0]),  # alpha > beta: the other hyp2f1 form
    ],
)
def test_grouped_likelihoods_and_gradients_equal_the_per_customer_sums(cdnow_summary, model,
                                                                       point):
    from segments.analysis import clv

    columns = [cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    data = clv._Triples.build(*columns)
    grouped, per_customer = {
        CountModel.BGNBD: (clv._bgnbd_ll_and_gradient, clv.bgnbd_log_likelihood),
        CountModel.MBGNBD: (clv._mbgnbd_ll_and_gradient, clv.mbgnbd_log_likelihood),
        CountModel.PARETO: (clv._pareto_ll_and_gradient, clv.pareto_log_likelihood),
    }[model]
    point = np.array(point)

    total, gradient = grouped(data, *point)

    assert total == pytest.approx(per_customer(*point, *columns).sum(), rel=1e-12)
    step = 1e-6
    numeric = [
        (per_customer(*(point * np.exp(step * e)), *columns).sum()
         - per_customer(*(point * np.exp(-step * e)), *columns).sum()) / (2 * step)
        for e in np.eye(4)
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5)


def test_grouped_gamma_gamma_fit_reaches_the_per_customer_likelihood_optimum():
    # Drawn from the model itself (CDNOW-like p, q, v) so the optimum is interior.
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, size=2000).astype(float)
    nu = rng.gamma(4.0, 1 / 15.0, size=2000)
    m = rng.gamma(6.0 * x, 1 / (nu * x))

    params = fit_gamma_gamma(x, m).params

    per_customer = gamma_gamma_log_likelihood(params.p, params.q, params.v, x, m).sum()
    assert params.log_likelihood == pytest.approx(per_customer, rel=1e-10)
    for nudge in (0.99, 1.01):
        assert gamma_gamma_log_likelihood(params.p * nudge, params.q, params.v, x, m).sum() < per_customer
        assert gamma_gamma_log_likelihood(params.p, params.q * nudge, params.v, x, m).sum() < per_customer


# ---------------------------------------------------------------- issue 14, item 10


def test_mbgnbd_reproduces_the_published_cdnow_parameters(cdnow_summary):
    params = fit_count_model(CountModel.MBGNBD, cdnow_summary["frequency"],
                             cdnow_summary["recency"], cdnow_summary["T"])

    assert isinstance(params, MbgNbdParams)
    assert _close(params.r, 0.525)
    assert _close(params.alpha, 6.183)
    assert _close(params.a, 0.891)
    assert _close(params.b, 1.614)


def test_pareto_nbd_reproduces_the_published_cdnow_parameters(cdnow_summary):
    params = fit_count_model(CountModel.PARETO, cdnow_summary["frequency"],
                             cdnow_summary["recency"], cdnow_summary["T"])

    assert isinstance(params, ParetoNbdParams)
    assert _close(params.r, 0.553)
    assert _close(params.alpha, 10.578)
    assert _close(params.s, 0.606)
    assert _close(params.beta, 11.669)
    assert params.log_likelihood == pytest.approx(-9595.0, abs=0.5)


def test_a_one_time_buyers_p_alive_falls_with_time_since_the_order(cdnow_orders):
    result = estimate_clv(cdnow_orders, as_of=pd.Timestamp("1998-06-30"))
    one_time = result.customers.loc[result.customers["frequency"] == 0].sort_values("T")

    assert result.count_params.model in (CountModel.MBGNBD, CountModel.PARETO)
    assert one_time["T"].nunique() > 50
    # Strictly lower for every longer silence, and far below 1 after 75 weeks.
    by_silence = one_time.groupby("T")["p_alive"].first()
    assert (np.diff(by_silence.to_numpy()) < 0).all()
    assert by_silence.iloc[-1] < 0.5


@pytest.mark.parametrize("model", [CountModel.MBGNBD, CountModel.PARETO])
def test_p_alive_of_a_one_time_buyer_is_strictly_decreasing_under_each_eligible_model(
        cdnow_summary, model):
    params = fit_count_model(model, cdnow_summary["frequency"], cdnow_summary["recency"],
                             cdnow_summary["T"])
    weeks = np.arange(0.0, 520.0, 0.5)

    alive = p_alive(params, np.zeros_like(weeks), np.zeros_like(weeks), weeks)

    assert (np.diff(alive) < 0).all()
    assert alive[0] <= 1.0 and alive[-1] < 0.2


@pytest.mark.parametrize("model", list(CountModel))
def test_expected_purchases_start_at_the_rate_of_a_living_customer(cdnow_summary, model):
    # Over a short t, E[purchases] = t * E[lambda | x, t_x, T] * P(alive), and
    # E[lambda | history] = (r + x) / (alpha + T) in all three models.
    params = fit_count_model(model, cdnow_summary["frequency"], cdnow_summary["recency"],
                             cdnow_summary["T"])
    x, t_x, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.43, 20.0]), np.array([30.0, 38.86, 39.0])

    small = expected_purchases(1e-4, params, x, t_x, T) / 1e-4

    np.testing.assert_allclose(small, (params.r + x) / (params.alpha + T) * p_alive(params, x, t_x, T),
                               rtol=1e-3)


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        (lambda: pareto_orders(30_000, r=0.5, alpha=8.0, s=0.4, beta=4.0, days=730,
                               cohort_days=365, seed=11), CountModel.PARETO),
        (lambda: mbgnbd_orders(30_000, r=0.5, alpha=6.0, a=0.9, b=1.6, days=730,
                               cohort_days=365, seed=11), CountModel.MBGNBD),
    ],
    ids=["pareto", "mbgnbd"],
)
def test_the_model_the_history_was_drawn_from_wins_the_holdout(orders, expected):
    result = estimate_clv(orders())

    assert result.holdout is not None
    assert result.holdout.chosen == expected
    assert result.count_params.model == expected
    other = next(m for m in (CountModel.MBGNBD, CountModel.PARETO) if m != expected)
    assert result.holdout.check(expected).rmse < result.holdout.check(other).rmse


def test_without_a_holdout_window_the_default_model_is_used():
    orders = mbgnbd_orders(3_000, r=2.0, alpha=1.0, a=0.5, b=3.0, days=60, cohort_days=30,
                           seed=2)

    result = estimate_clv(orders)

    assert result.enough_history and result.holdout is None
    assert result.count_params.model == CountModel.MBGNBD


# ---------------------------------------------------------------- item 11


@pytest.fixture(scope="module")
def cdnow_repeat_buyers() -> pd.DataFrame:
    data = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    return data.loc[data["x"] > 0].reset_index(drop=True)


def test_gamma_gamma_on_small_cdnow_subsamples_is_sane_or_says_not_enough(cdnow_repeat_buyers):
    usable = refused = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        size = int(rng.integers(30, 61))
        sample = cdnow_repeat_buyers.iloc[rng.choice(len(cdnow_repeat_buyers), size, replace=False)]
        x, m = sample["x"].to_numpy(float), sample["zbar"].to_numpy(float)

        fit = fit_gamma_gamma(x, m)

        if fit.params is None:
            refused += 1
            assert fit.problem is not None
            continue
        usable += 1
        p, q, v = fit.params.p, fit.params.q, fit.params.v
        assert fit.problem is None
        assert max(p, q) < 1e3 and q > 1, (seed, fit.params)
        # A true interior maximum: every nudge of every parameter lowers the likelihood.
        best = gamma_gamma_log_likelihood(p, q, v, x, m).sum()
        assert fit.params.log_likelihood == pytest.approx(best, rel=1e-9)
        for nudge in (0.98, 1.02):
            assert gamma_gamma_log_likelihood(p * nudge, q, v, x, m).sum() < best
            assert gamma_gamma_log_likelihood(p, q * nudge, v, x, m).sum() < best
            assert gamma_gamma_log_likelihood(p, q, v * nudge, x, m).sum() < best
    # Both outcomes occur on CDNOW at this size (the old fit printed p > 1e4 for 13 of 60).
    assert usable > 20 and refused > 3


def cdnow_slice(orders: pd.DataFrame) -> pd.DataFrame:
    """CDNOW customers 751-900 in the calibration year: 58 repeat buyers whose spend fit
    runs to the boundary (the old unbounded fit printed p = 6.2 million)."""
    kept = orders["customer_id"].between(751, 900) & (orders["ordered_at"] <= "1997-09-30")
    return orders.loc[kept]


def test_a_spend_fit_at_the_boundary_gives_no_12_month_values(cdnow_orders):
    result = estimate_clv(cdnow_slice(cdnow_orders))

    assert result.enough_history and result.repeat_buyers == 58
    assert result.spend.problem == SpendProblem.BOUNDARY
    assert result.spend.params is None and result.spend.raw.p > 9_000
    assert result.customers["clv"].isna().all()
    assert result.customers["expected_average_value"].isna().all()
    # The purchase model does not depend on the spend model: still there for everyone.
    assert result.customers["p_alive"].between(0, 1).all()
    assert result.customers["expected_orders_365"].notna().all()


def test_the_spend_fit_does_not_depend_on_the_currency(cdnow_repeat_buyers):
    x, m = cdnow_repeat_buyers["x"], cdnow_repeat_buyers["zbar"]

    dollars, cents = fit_gamma_gamma(x, m).params, fit_gamma_gamma(x, m * 100).params

    assert cents.p == pytest.approx(dollars.p, rel=1e-4)
    assert cents.q == pytest.approx(dollars.q, rel=1e-4)
    assert cents.v == pytest.approx(100 * dollars.v, rel=1e-4)


# ---------------------------------------------------------------- item 15


def _check(predicted: float, actual: float) -> ModelCheck:
    return ModelCheck(params=PAPER, predicted_total=predicted, actual_total=actual, rmse=1.0,
                      by_frequency=pd.DataFrame())


def test_a_holdout_missed_by_more_than_a_quarter_is_a_poor_fit():
    assert POOR_FIT_SHARE == 0.25
    assert _check(808, 1576).misses_badly  # the example: 49% off
    assert _check(1576, 808).misses_badly
    assert not _check(1100, 1000).misses_badly
    assert not _check(1250, 1000).misses_badly
    assert _check(1251, 1000).misses_badly
    assert _check(3, 0).misses_badly  # nothing happened, 3 predicted


def test_plain_readings_of_the_published_cdnow_parameters():
    mbg = count_reading(CountModel.MBGNBD, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
    pareto = count_reading("pareto", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    spend = spend_reading({"p": 6.25, "q": 3.74, "v": 15.44})

    assert mbg.orders_per_year == pytest.approx(0.525 / 6.183 * 365.25 / 7)  # ~4.4
    assert mbg.rates_vary_widely and mbg.months_stayed is None
    assert mbg.leave_share == pytest.approx(0.891 / 2.505)  # ~36% after each purchase
    assert pareto.leave_share is None
    assert pareto.months_stayed == pytest.approx(11.669 / 0.606 * 7 / (365.25 / 12))  # ~4.4
    assert spend.typical_order_value == pytest.approx(6.25 * 15.44 / 2.74)  # ~35.2
    assert spend.own_share_after_one == pytest.approx(6.25 / 8.99)
