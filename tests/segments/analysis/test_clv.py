from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segments.analysis.clv import (
    BgNbdParams,
    GammaGammaParams,
    customer_lifetime_value,
    estimate_clv,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_validation,
    p_alive,
    summary_from_orders,
)

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

    params = fit_gamma_gamma(data["x"], data["zbar"])

    assert (data["x"] > 0).sum() == 946
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


def test_customers_without_repeat_purchases_are_certainly_alive():
    assert p_alive(PAPER, [0], [0.0], [30.0])[0] == 1.0


def test_a_long_silence_lowers_p_alive():
    recent, silent = p_alive(PAPER, [3, 3], [29.0, 5.0], [30.0, 30.0])

    assert recent > silent


def test_expected_average_value_shrinks_towards_the_population_mean():
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0, log_likelihood=0.0)

    one_time, repeat = expected_average_value(params, [0, 2], [0.0, 100.0])

    assert one_time == pytest.approx(6.0 * 15.0 / 3.0)  # p v / (q - 1) = 30
    assert repeat == pytest.approx(6.0 * (15.0 + 200.0) / (12.0 + 3.0))  # 86
    assert one_time < repeat < 100.0


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
    assert result.customers is None and result.bgnbd is None


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
        result.bgnbd, result.gamma_gamma, customers, annual_discount_rate=0.10
    )
    assert (discounted < customers["clv"]).all()
    assert (discounted > 0.9 * customers["clv"]).all()


def test_holdout_predictions_track_actual_repeat_purchases_by_frequency(cdnow_orders):
    validation = holdout_validation(
        cdnow_orders, pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    )
    table = validation.by_frequency

    assert validation.holdout_periods == pytest.approx(39.0)
    assert table["frequency"].tolist() == list(range(8))
    assert table["customers"].sum() == 2357
    assert table["predicted"].is_monotonic_increasing
    assert np.corrcoef(table["predicted"], table["actual"])[0, 1] > 0.95
    assert validation.predicted_total == pytest.approx(validation.actual_total, rel=0.2)


def test_grouped_bgnbd_likelihood_and_its_gradient_equal_the_per_customer_sum(cdnow_summary):
    from segments.analysis.clv import _BgNbdData, bgnbd_log_likelihood

    columns = [cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")]
    data = _BgNbdData.build(*columns)
    point = np.array([0.3, 4.0, 0.7, 2.5])

    total, gradient = data.log_likelihood_and_gradient(*point)

    assert total == pytest.approx(bgnbd_log_likelihood(*point, *columns).sum(), rel=1e-12)
    step = 1e-6
    numeric = [
        (data.total_log_likelihood(*(point * np.exp(step * e)))
         - data.total_log_likelihood(*(point * np.exp(-step * e)))) / (2 * step)
        for e in np.eye(4)
    ]
    assert gradient == pytest.approx(numeric, rel=1e-5)


def test_grouped_gamma_gamma_fit_reaches_the_per_customer_likelihood_optimum():
    from segments.analysis.clv import gamma_gamma_log_likelihood

    # Drawn from the model itself (CDNOW-like p, q, v) so the optimum is interior.
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, size=2000).astype(float)
    nu = rng.gamma(4.0, 1 / 15.0, size=2000)
    m = rng.gamma(6.0 * x, 1 / (nu * x))

    params = fit_gamma_gamma(x, m)

    per_customer = gamma_gamma_log_likelihood(params.p, params.q, params.v, x, m).sum()
    assert params.log_likelihood == pytest.approx(per_customer, rel=1e-10)
    for nudge in (0.99, 1.01):
        assert gamma_gamma_log_likelihood(params.p * nudge, params.q, params.v, x, m).sum() < per_customer
        assert gamma_gamma_log_likelihood(params.p, params.q * nudge, params.v, x, m).sum() < per_customer
