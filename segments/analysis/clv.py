"""Customer lifetime value with BG/NBD (purchase count) and Gamma-Gamma (order value).

Implemented here with scipy rather than with the ``lifetimes`` package: lifetimes is
archived and pins old numpy/pandas, while both models are a page of maths each.
References: Fader, Hardie & Lee (2005) "Counting your customers the easy way"
(BG/NBD) and "RFM and CLV: using iso-value curves" (Gamma-Gamma); the formulas and
the CDNOW reference numbers in the tests follow those papers and lifetimes 0.11.

Units: ``frequency`` is the number of repeat purchase *days* (several orders on one
day count once, as in the papers), ``recency`` the time from the first to the last
purchase and ``T`` the time from the first purchase to the end of the calibration
period, all in periods of ``period_days`` (7 = weeks, the papers' unit).

Lifetime value (``customer_lifetime_value``): expected purchases over the horizon
times the Gamma-Gamma expected value per purchase. With a discount rate the horizon
is cut into months and each month's expected purchases are discounted by
``(1 + annual_rate) ** (-month / 12)``; with rate 0 this equals the simple product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from segments.analysis.features import align_timestamp

# Fewer repeat buyers than this and the four BG/NBD parameters (and three
# Gamma-Gamma ones) are fitted to noise; we then say so instead of showing numbers.
MIN_REPEAT_BUYERS = 30

_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, kw_only=True, slots=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, kw_only=True, slots=True)
class GammaGammaParams:
    p: float
    q: float
    v: float  # called gamma in the paper
    log_likelihood: float


@dataclass(frozen=True, kw_only=True, slots=True)
class ClvResult:
    enough_history: bool
    reason: str
    repeat_buyers: int
    bgnbd: BgNbdParams | None = None
    gamma_gamma: GammaGammaParams | None = None
    # Index customer_id; columns frequency, recency, T, monetary_value, p_alive,
    # expected_purchases, expected_average_value, clv. None without enough history.
    customers: pd.DataFrame | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldoutValidation:
    params: BgNbdParams
    holdout_periods: float
    # One row per calibration frequency (last bucket is "max_bucket or more"):
    # frequency, customers, predicted (mean), actual (mean repeat purchases in holdout).
    by_frequency: pd.DataFrame
    predicted_total: float
    actual_total: float


# ---------------------------------------------------------------- summary


def _purchase_days(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    kept = orders.loc[orders["ordered_at"] <= end, ["customer_id", "ordered_at", "net_total"]]
    kept = kept.assign(day=kept["ordered_at"].dt.floor("D"))
    return kept.groupby(["customer_id", "day"], as_index=False)["net_total"].sum()


def summary_from_orders(
    orders: pd.DataFrame,
    *,
    calibration_end: pd.Timestamp,
    period_days: float = 7.0,
) -> pd.DataFrame:
    """frequency / recency / T / monetary_value per customer for orders up to ``calibration_end``.

    ``monetary_value`` is the mean net value of the repeat purchase days (the first
    purchase is excluded, as Gamma-Gamma expects); 0 for one-time buyers.
    """
    end = align_timestamp(calibration_end, orders["ordered_at"]).floor("D")
    days = _purchase_days(orders, end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))
    grouped = days.groupby("customer_id")
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped["day"].size()
    first_value = days.sort_values("day").groupby("customer_id")["net_total"].first()
    repeat_value = grouped["net_total"].sum() - first_value
    frequency = (count - 1).astype("int64")
    period = pd.Timedelta(days=period_days)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / period,
            "T": (end - first) / period,
            "monetary_value": (repeat_value / frequency.where(frequency > 0)).fillna(0.0),
        }
    )
    summary.index.name = "customer_id"
    return summary


# ---------------------------------------------------------------- BG/NBD


def _as_arrays(*columns: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


def bgnbd_log_likelihood(
    r: float,
    alpha: float,
    a: float,
    b: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> np.ndarray:
    """Per-customer log-likelihood (Fader, Hardie & Lee 2005, eq. 6) in log-sum-exp form."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive_term = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T_)
    repeat = x > 0
    # The dropout term only exists for repeat buyers; b + x - 1 may be < 0 when x = 0.
    dropout_term = np.full_like(x, -np.inf)
    dropout_term[repeat] = (
        betaln(a + 1, b + x[repeat] - 1)
        - betaln(a, b)
        - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return common + np.logaddexp(alive_term, dropout_term)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class _BgNbdData:
    """Customers grouped by identical (x, t_x, T), each value column factorised.

    The likelihood only depends on those three numbers, and x, t_x and T take few
    distinct values (whole days over a few years), so the expensive special functions
    run on the distinct values and only a gather and a logaddexp run per group. This is
    the same sum as ``bgnbd_log_likelihood(...).sum()``, regrouped.
    """

    weight: np.ndarray  # customers per group
    x_values: np.ndarray
    x_index: np.ndarray
    t_values: np.ndarray  # recency t_x
    t_index: np.ndarray
    T_values: np.ndarray
    T_index: np.ndarray
    repeat: np.ndarray  # group has x > 0

    @classmethod
    def build(cls, x: np.ndarray, t_x: np.ndarray, T_: np.ndarray) -> _BgNbdData:
        groups, weight = np.unique(np.column_stack([x, t_x, T_]), axis=0, return_counts=True)
        x_values, x_index = np.unique(groups[:, 0], return_inverse=True)
        t_values, t_index = np.unique(groups[:, 1], return_inverse=True)
        T_values, T_index = np.unique(groups[:, 2], return_inverse=True)
        return cls(weight=weight.astype(float), x_values=x_values, x_index=x_index,
                   t_values=t_values, t_index=t_index, T_values=T_values, T_index=T_index,
                   repeat=groups[:, 0] > 0)

    def total_log_likelihood(self, r: float, alpha: float, a: float, b: float) -> float:
        return self.log_likelihood_and_gradient(r, alpha, a, b)[0]

    def log_likelihood_and_gradient(
        self, r: float, alpha: float, a: float, b: float
    ) -> tuple[float, np.ndarray]:
        """Total log-likelihood and its gradient in (log r, log alpha, log a, log b).

        Per group LL = common + logaddexp(alive, dropout); with w = the softmax weights
        of (alive, dropout) the derivative of the logaddexp is w_alive * d alive +
        w_dropout * d dropout, and d betaln(p, q)/dp = digamma(p) - digamma(p + q).
        """
        xv = self.x_values
        has_repeat = xv > 0
        b_repeat = np.where(has_repeat, b + xv - 1, 1.0)  # b + x - 1 only exists for x > 0
        beta_ab = betaln(a, b)
        log_alpha_T = np.log(alpha + self.T_values)[self.T_index]
        log_alpha_t = np.log(alpha + self.t_values)[self.t_index]
        common = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha))[self.x_index]
        r_x = (r + xv)[self.x_index]
        alive = (betaln(a, b + xv) - beta_ab)[self.x_index] - r_x * log_alpha_T
        dropout_x = np.where(has_repeat, betaln(a + 1, b_repeat) - beta_ab, -np.inf)
        dropout = np.where(self.repeat, dropout_x[self.x_index] - r_x * log_alpha_t, -np.inf)
        both = np.logaddexp(alive, dropout)
        total = float(np.dot(self.weight, common + both))

        w_alive = np.exp(alive - both)
        w_dropout = 1.0 - w_alive
        psi_abx = digamma(a + b + xv)
        d_r = (digamma(r + xv) - digamma(r) + np.log(alpha))[self.x_index] - (
            w_alive * log_alpha_T + w_dropout * log_alpha_t
        )
        d_alpha = r / alpha - r_x * (
            w_alive / (alpha + self.T_values)[self.T_index]
            + w_dropout / (alpha + self.t_values)[self.t_index]
        )
        d_ab_a = digamma(a) - digamma(a + b)
        d_ab_b = digamma(b) - digamma(a + b)
        d_a = (
            w_alive * (digamma(a) - psi_abx)[self.x_index]
            + w_dropout * (digamma(a + 1) - psi_abx)[self.x_index]
            - d_ab_a
        )
        psi_b_repeat = np.where(has_repeat, digamma(b_repeat), 0.0)
        d_b = (
            w_alive * (digamma(b + xv) - psi_abx)[self.x_index]
            + w_dropout * (psi_b_repeat - psi_abx)[self.x_index]
            - d_ab_b
        )
        gradient = np.array(
            [np.dot(self.weight, d) for d in (d_r, d_alpha, d_a, d_b)]
        ) * np.array([r, alpha, a, b])
        return total, gradient


def _maximise(negative_ll, start: np.ndarray):
    """Nelder-Mead to find the basin, then BFGS from there for the last digits.

    The simplex only has to get close: the BFGS polish converges to the same optimum
    far faster than a simplex shrunk to 1e-8, so its tolerance is loose.
    """
    result = minimize(
        negative_ll,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 20_000, "maxfev": 20_000},
    )
    polished = minimize(negative_ll, result.x, method="BFGS")
    return polished if polished.fun <= result.fun else result


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    data = _BgNbdData.build(x, t_x, T_)

    def negative_ll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = -data.total_log_likelihood(r, alpha, a, b)
        return float(value) if np.isfinite(value) else 1e300

    def negative_ll_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = data.log_likelihood_and_gradient(*np.exp(log_params))
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros(4)
        return -value, -gradient

    # Optimise in log space so every parameter stays positive without bounds.
    start = np.log([1.0, max(float(np.mean(T_)), 1e-3), 1.0, 1.0])
    # With the exact gradient BFGS needs a few dozen evaluations where the simplex
    # needs a thousand; the simplex stays as the fallback when BFGS stops short.
    best = minimize(negative_ll_and_gradient, start, jac=True, method="BFGS",
                    options={"gtol": 1e-6})
    # "Precision loss" at a zero gradient is still the optimum; anything else falls back.
    converged = best.fun < 1e300 and (best.success or float(np.max(np.abs(best.jac))) < 1e-2)
    if not converged:
        fallback = _maximise(negative_ll, start)
        best = fallback if fallback.fun <= best.fun else best
    r, alpha, a, b = np.exp(best.x)
    return BgNbdParams(
        r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=float(-best.fun)
    )


def p_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Probability that each customer has not dropped out by T."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(np.where(x > 0, b + x - 1, 1.0))
            + (r + x) * (np.log(alpha + T_) - np.log(alpha + t_x))
        )
    return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)


def expected_purchases(
    t: float, params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected number of purchases in the next ``t`` periods given each history (eq. 10)."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T_ + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T_) / (alpha + T_ + t)) ** (r + x) * hyp)
    return numerator * p_alive(params, x, t_x, T_)


# ---------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    p: float, q: float, v: float, frequency: ArrayLike, monetary_mean: ArrayLike
) -> np.ndarray:
    """Per-customer log-likelihood of the mean repeat value (Fader, Hardie & Lee 2005b)."""
    x, m = _as_arrays(frequency, monetary_mean)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )


def _repeat_buyers(frequency: ArrayLike, monetary_mean: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, m = _as_arrays(frequency, monetary_mean)
    keep = (x > 0) & (m > 0)
    return x[keep], m[keep]


def fit_gamma_gamma(frequency: ArrayLike, monetary_mean: ArrayLike) -> GammaGammaParams:
    """Fit on repeat buyers only: one-time buyers have no repeat value to average."""
    x, m = _repeat_buyers(frequency, monetary_mean)
    # The sum of gamma_gamma_log_likelihood, regrouped: the gammaln terms only depend on
    # x (few distinct values), the log m and x log x terms are constants, so each
    # evaluation costs two logs per buyer instead of a dozen special functions. Terms
    # that cancel (gammaln(px + q) - gammaln(q), q log v - q log(v + x m)) are still
    # subtracted per value, never as separate large sums.
    x_values, x_index = np.unique(x, return_inverse=True)
    x_weight = np.bincount(x_index, minlength=len(x_values)).astype(float)
    sum_x_log_m = float(np.dot(x, np.log(m)))
    sum_log_m = float(np.log(m).sum())
    sum_x_log_x = float(np.dot(x, np.log(x)))
    xm = x * m

    def negative_ll(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        px = p * x_values
        value = -(
            float(np.dot(x_weight, gammaln(px + q) - gammaln(px) - gammaln(q)))
            + p * (sum_x_log_m + sum_x_log_x)
            - sum_log_m
            - p * float(np.dot(x, np.log(v + xm)))
            - q * float(np.log1p(xm / v).sum())
        )
        return float(value) if np.isfinite(value) else 1e300

    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-3)])
    best = _maximise(negative_ll, start)
    p, q, v = np.exp(best.x)
    return GammaGammaParams(p=float(p), q=float(q), v=float(v), log_likelihood=float(-best.fun))


def expected_average_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_mean: ArrayLike
) -> np.ndarray:
    """Posterior mean value per purchase; one-time buyers get the population mean."""
    x, m = _as_arrays(frequency, monetary_mean)
    p, q, v = params.p, params.q, params.v
    population_mean = p * v / (q - 1) if q > 1 else np.nan
    posterior = p * (v + x * m) / (p * x + q - 1)
    return np.where(x > 0, posterior, population_mean)


# ---------------------------------------------------------------- CLV


def customer_lifetime_value(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.0,
    period_days: float = 7.0,
) -> pd.Series:
    """Expected net value over ``horizon_months`` (see the module docstring)."""
    columns = summary["frequency"], summary["recency"], summary["T"]
    value = expected_average_value(gamma_gamma, summary["frequency"], summary["monetary_value"])
    periods_per_month = _DAYS_PER_MONTH / period_days
    total = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, horizon_months + 1):
        cumulative = expected_purchases(month * periods_per_month, bgnbd, *columns)
        total += (cumulative - previous) * (1 + annual_discount_rate) ** (-month / 12)
        previous = cumulative
    return pd.Series(total * value, index=summary.index, name="clv")


def estimate_clv(
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.0,
    period_days: float = 7.0,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
) -> ClvResult:
    """Fit both models on all orders up to ``as_of`` and value every customer."""
    end = orders["ordered_at"].max() if as_of is None else as_of
    summary = summary_from_orders(orders, calibration_end=end, period_days=period_days)
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if repeat < min_repeat_buyers:
        return ClvResult(
            enough_history=False,
            reason=(
                f"Only {repeat} customers have bought on more than one day; "
                f"at least {min_repeat_buyers} are needed to estimate lifetime value."
            ),
            repeat_buyers=repeat,
        )
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    horizon_periods = horizon_months * _DAYS_PER_MONTH / period_days
    customers = summary.assign(
        p_alive=p_alive(bgnbd, summary["frequency"], summary["recency"], summary["T"]),
        expected_purchases=expected_purchases(
            horizon_periods, bgnbd, summary["frequency"], summary["recency"], summary["T"]
        ),
        expected_average_value=expected_average_value(
            gamma_gamma, summary["frequency"], summary["monetary_value"]
        ),
        clv=customer_lifetime_value(
            bgnbd,
            gamma_gamma,
            summary,
            horizon_months=horizon_months,
            annual_discount_rate=annual_discount_rate,
            period_days=period_days,
        ),
    )
    return ClvResult(
        enough_history=True,
        reason=f"Fitted on {len(summary)} customers, {repeat} of them repeat buyers.",
        repeat_buyers=repeat,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        customers=customers,
    )


# ---------------------------------------------------------------- validation


def holdout_validation(
    orders: pd.DataFrame,
    calibration_end: pd.Timestamp,
    holdout_end: pd.Timestamp,
    *,
    period_days: float = 7.0,
    max_bucket: int = 7,
) -> HoldoutValidation:
    """Fit on the calibration period and compare predicted with actual holdout repeat purchases."""
    cal_end = align_timestamp(calibration_end, orders["ordered_at"]).floor("D")
    hold_end = align_timestamp(holdout_end, orders["ordered_at"]).floor("D")
    summary = summary_from_orders(orders, calibration_end=cal_end, period_days=period_days)
    params = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    holdout_periods = (hold_end - cal_end) / pd.Timedelta(days=period_days)

    days = _purchase_days(orders, hold_end + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))
    in_holdout = days.loc[days["day"] > cal_end]
    actual = in_holdout.groupby("customer_id").size().reindex(summary.index, fill_value=0)
    predicted = expected_purchases(
        holdout_periods, params, summary["frequency"], summary["recency"], summary["T"]
    )
    per_customer = pd.DataFrame(
        {
            "frequency": summary["frequency"].clip(upper=max_bucket),
            "predicted": predicted,
            "actual": actual.astype(float),
        },
        index=summary.index,
    )
    by_frequency = (
        per_customer.groupby("frequency")
        .agg(
            customers=("actual", "size"), predicted=("predicted", "mean"), actual=("actual", "mean")
        )
        .reset_index()
    )
    return HoldoutValidation(
        params=params,
        holdout_periods=float(holdout_periods),
        by_frequency=by_frequency,
        predicted_total=float(per_customer["predicted"].sum()),
        actual_total=float(per_customer["actual"].sum()),
    )
