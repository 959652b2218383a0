"""Customer lifetime value: a purchase-count model chosen on the shop's own holdout, and
Gamma-Gamma for the value of each order.

Implemented here with scipy rather than with the ``lifetimes`` package: lifetimes is
archived and pins old numpy/pandas, while each model is a page of maths.

Purchase-count models (all: while "alive" a customer buys at a Poisson rate that
varies across customers as Gamma(r, alpha); they differ in how customers leave):

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): after
  each *repeat* purchase a customer may leave, with a probability that varies as
  Beta(a, b). Someone who never bought again cannot have left, so every one-time buyer
  gets P(alive) = 1 however long ago that order was. Kept in the comparison, never
  chosen: that 1 contradicts the facts the pages print next to it.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007): the same, but a customer may also
  leave right after the first purchase, so a one-time buyer's P(alive) falls with time.
- Pareto/NBD (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader & Hardie's
  note "Deriving the Pareto/NBD likelihood"): customers leave at any time, at an
  exponential rate that varies as Gamma(s, beta).

Which one a shop gets is decided by a holdout check on its own history: each model is
fitted without the last months, and the one whose per-customer predictions of the
purchases in those months have the smallest root-mean-square error is fitted again on
everything. Gamma-Gamma ("RFM and CLV: using iso-value curves") gives the value per
purchase; fitted from a few starts within bounds, and when it does not converge inside
them (small shops) there is no spend prediction rather than a number off a boundary.

Units: ``frequency`` is the number of repeat purchase *days* (several orders on one
day count once, as in the papers), ``recency`` the time from the first to the last
purchase and ``T`` the time from the first purchase to the end of the calibration
period, all in periods of ``period_days`` (7 = weeks, the papers' unit).

Lifetime value: expected purchases over the horizon times the Gamma-Gamma expected
value per purchase. With a discount rate the horizon is cut into months and each
month's expected purchases are discounted by ``(1 + annual_rate) ** (-month / 12)``;
with rate 0 this equals the simple product.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from segments.analysis.features import align_timestamp

# Fewer repeat buyers than this and the count models' four parameters (and Gamma-Gamma's
# three) are fitted to noise; we then say so instead of showing numbers.
MIN_REPEAT_BUYERS = 30
# The holdout check is "missed badly" when the predicted total of holdout purchases is
# off the actual one by more than this share of it: the pages then say the model fits
# the shop poorly. CDNOW's chosen model misses by ~5%; 25% is far outside sampling noise
# for any shop with enough repeat buyers to be fitted at all.
POOR_FIT_SHARE = 0.25
# The holdout window: the last third of the history, at most 180 days, and no check
# when that is under 30 days (too few purchases in it to compare anything).
MAX_HOLDOUT_DAYS = 180.0
MIN_HOLDOUT_DAYS = 30.0
# Gamma-Gamma's p and q are searched in [1e-3, 1e4] (v in units of the mean repeat
# value, so the bounds do not depend on the currency). An optimum within 5% of a bound
# is "at the boundary": the likelihood keeps rising towards a degenerate model (every
# customer the same, or spend with no spread) and the numbers mean nothing.
_GG_LOWER, _GG_UPPER = 1e-3, 1e4
_GG_V_LOWER, _GG_V_UPPER = 1e-6, 1e6
_BOUNDARY_MARGIN = np.log(1.05)

# The papers' unit: frequency, recency and T in weeks.
PERIOD_DAYS = 7.0
_DAYS_PER_MONTH = 365.25 / 12
_DAYS_PER_YEAR = 365.25


class CountModel(StrEnum):
    BGNBD = "bgnbd"
    MBGNBD = "mbgnbd"
    PARETO = "pareto"


# The papers' names: proper names, the same in every language.
MODEL_NAMES = {CountModel.BGNBD: "BG/NBD", CountModel.MBGNBD: "MBG/NBD",
               CountModel.PARETO: "Pareto/NBD"}
# BG/NBD is compared but never chosen (module docstring).
ELIGIBLE_MODELS = (CountModel.MBGNBD, CountModel.PARETO)
# Without a holdout to decide: the model closest to the BG/NBD the shop had before that
# still lets one-time buyers leave.
DEFAULT_MODEL = CountModel.MBGNBD


# When the fit degenerates: customers who all buy at one steady rate and none of whom
# seems to leave drive the rate spread and the drop-out towards their limits, where the
# models' special functions give no number (NaN). Better no estimate than a made-up one.
UNFITTED = "The value models found no stable fit for these orders, so no value is estimated."


class ChoiceBasis(StrEnum):
    HOLDOUT = "holdout"  # smallest holdout error among ELIGIBLE_MODELS
    NO_HOLDOUT = "no_holdout"  # history too short for a holdout: DEFAULT_MODEL
    # No eligible model fitted the calibration months stably (UNFITTED): DEFAULT_MODEL
    HOLDOUT_UNFITTED = "holdout_unfitted"


class SpendProblem(StrEnum):
    BOUNDARY = "boundary"  # optimum at a bound of p or q
    NOT_CONVERGED = "not_converged"
    NO_FINITE_MEAN = "no_finite_mean"  # q <= 1: the population's mean spend is infinite


@dataclass(frozen=True, kw_only=True, slots=True)
class BgNbdParams:
    model: ClassVar[CountModel] = CountModel.BGNBD
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, kw_only=True, slots=True)
class MbgNbdParams:
    model: ClassVar[CountModel] = CountModel.MBGNBD
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, kw_only=True, slots=True)
class ParetoNbdParams:
    model: ClassVar[CountModel] = CountModel.PARETO
    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float


CountParams = BgNbdParams | MbgNbdParams | ParetoNbdParams


@dataclass(frozen=True, kw_only=True, slots=True)
class GammaGammaParams:
    p: float
    q: float
    v: float  # called gamma in the paper
    log_likelihood: float


@dataclass(frozen=True, kw_only=True, slots=True)
class GammaGammaFit:
    """The best of several bounded starts; ``params`` only when they can be trusted."""

    params: GammaGammaParams | None
    problem: SpendProblem | None
    repeat_buyers: int
    # The best optimum found, kept for tests and logs even when it is not usable.
    raw: GammaGammaParams


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelCheck:
    """One count model fitted on the calibration period and checked on the holdout."""

    params: CountParams
    predicted_total: float
    actual_total: float
    rmse: float  # per customer, purchases in the holdout
    # One row per calibration frequency (last bucket is "max_bucket or more"):
    # frequency, customers, predicted (mean), actual (mean repeat purchases in holdout).
    by_frequency: pd.DataFrame

    @property
    def model(self) -> CountModel:
        return self.params.model

    @property
    def miss_share(self) -> float:
        """How far the predicted total is off the actual one, as a share of it."""
        return abs(self.predicted_total - self.actual_total) / max(self.actual_total, 1.0)

    @property
    def misses_badly(self) -> bool:
        return self.miss_share > POOR_FIT_SHARE


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldoutValidation:
    holdout_periods: float
    checks: tuple[ModelCheck, ...]  # in CountModel order
    chosen: CountModel

    def check(self, model: CountModel) -> ModelCheck:
        return next(c for c in self.checks if c.model == model)

    @property
    def chosen_check(self) -> ModelCheck:
        return self.check(self.chosen)


@dataclass(frozen=True, kw_only=True, slots=True)
class ClvResult:
    enough_history: bool
    reason: str
    repeat_buyers: int
    count_params: CountParams | None = None  # the chosen model, fitted on everything
    choice_basis: ChoiceBasis | None = None
    holdout: HoldoutValidation | None = None
    holdout_days: float | None = None
    spend: GammaGammaFit | None = None
    # Index customer_id; columns frequency, recency, T, monetary_value, p_alive,
    # expected_orders_90, expected_orders_365, expected_purchases (horizon),
    # expected_average_value, clv (both NaN without a usable spend model).
    # None without enough history.
    customers: pd.DataFrame | None = None


# ---------------------------------------------------------------- summary


def purchase_days(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """customer_id, day, net_total: one row per customer and purchase day up to ``end``."""
    kept = orders.loc[orders["ordered_at"] <= end, ["customer_id", "ordered_at", "net_total"]]
    kept = kept.assign(day=kept["ordered_at"].dt.floor("D"))
    return kept.groupby(["customer_id", "day"], as_index=False, sort=True)["net_total"].sum()


def _day_end(moment: pd.Timestamp, like: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    day = align_timestamp(moment, like).floor("D")
    return day, day + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def _summary_from_days(days: pd.DataFrame, end_day: pd.Timestamp, period_days: float) -> pd.DataFrame:
    days = days.loc[days["day"] <= end_day]
    # purchase_days sorts by customer then day, so first/last are positional.
    grouped = days.groupby("customer_id", sort=True)
    first = grouped["day"].first()
    last = grouped["day"].last()
    count = grouped["day"].size()
    repeat_value = grouped["net_total"].sum() - grouped["net_total"].first()
    frequency = (count - 1).astype("int64")
    period = pd.Timedelta(days=period_days)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / period,
            "T": (end_day - first) / period,
            "monetary_value": (repeat_value / frequency.where(frequency > 0)).fillna(0.0),
        }
    )
    summary.index.name = "customer_id"
    return summary


def summary_from_orders(
    orders: pd.DataFrame,
    *,
    calibration_end: pd.Timestamp,
    period_days: float = PERIOD_DAYS,
) -> pd.DataFrame:
    """frequency / recency / T / monetary_value per customer for orders up to ``calibration_end``.

    ``monetary_value`` is the mean net value of the repeat purchase days (the first
    purchase is excluded, as Gamma-Gamma expects); 0 for one-time buyers.
    """
    end_day, end = _day_end(calibration_end, orders["ordered_at"])
    return _summary_from_days(purchase_days(orders, end), end_day, period_days)


# ---------------------------------------------------------------- grouped data


def _as_arrays(*columns: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class _Triples:
    """Customers grouped by identical (x, t_x, T), each value column factorised.

    Every model's likelihood and prediction only depend on those three numbers, and x,
    t_x and T take few distinct values (whole days over a few years), so the expensive
    special functions run on the distinct values (or pairs, for Pareto/NBD's hyp2f1)
    and only a gather and a logaddexp run per group. Sums are the per-customer sums,
    regrouped; ``inverse`` maps each customer back to their group.
    """

    weight: np.ndarray  # customers per group
    x: np.ndarray  # per group
    t: np.ndarray
    T: np.ndarray
    inverse: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    t_values: np.ndarray  # recency t_x
    t_index: np.ndarray
    T_values: np.ndarray
    T_index: np.ndarray
    repeat: np.ndarray  # group has x > 0
    # Distinct (x, t_x) and (x, T) pairs, for Pareto/NBD's hyp2f1.
    xt_x: np.ndarray
    xt_t: np.ndarray
    xt_index: np.ndarray
    xT_x: np.ndarray
    xT_T: np.ndarray
    xT_index: np.ndarray

    @classmethod
    def build(cls, x: ArrayLike, t_x: ArrayLike, T_: ArrayLike) -> _Triples:
        x, t_x, T_ = _as_arrays(x, t_x, T_)
        # Hash grouping (pandas) instead of np.unique(axis=0), which sorts rows as
        # opaque bytes: ~10x faster on 100k customers.
        frame = pd.DataFrame({"x": x, "t": t_x, "T": T_})
        inverse = frame.groupby(["x", "t", "T"], sort=False).ngroup().to_numpy()
        weight = np.bincount(inverse).astype(float)
        first = np.zeros(len(weight), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        gx, gt, gT = x[first], t_x[first], T_[first]

        def codes(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
            index = pd.DataFrame(dict(enumerate(columns))).groupby(
                list(range(len(columns))), sort=False).ngroup().to_numpy()
            head = np.zeros(index.max() + 1, dtype=np.int64)
            head[index[::-1]] = np.arange(len(index))[::-1]
            return [c[head] for c in columns], index

        (x_values,), x_index = codes(gx)
        (t_values,), t_index = codes(gt)
        (T_values,), T_index = codes(gT)
        (xt_x, xt_t), xt_index = codes(gx, gt)
        (xT_x, xT_T), xT_index = codes(gx, gT)
        return cls(weight=weight, x=gx, t=gt, T=gT, inverse=inverse,
                   x_values=x_values, x_index=x_index, t_values=t_values, t_index=t_index,
                   T_values=T_values, T_index=T_index, repeat=gx > 0,
                   xt_x=xt_x, xt_t=xt_t, xt_index=xt_index,
                   xT_x=xT_x, xT_T=xT_T, xT_index=xT_index)

    def per_customer(self, values: np.ndarray) -> np.ndarray:
        return values[self.inverse]


# ---------------------------------------------------------------- BG/NBD


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


def _bgnbd_ll_and_gradient(data: _Triples, r: float, alpha: float, a: float, b: float
                           ) -> tuple[float, np.ndarray]:
    """Total log-likelihood and its gradient in (log r, log alpha, log a, log b).

    Per group LL = common + logaddexp(alive, dropout); with w = the softmax weights
    of (alive, dropout) the derivative of the logaddexp is w_alive * d alive +
    w_dropout * d dropout, and d betaln(p, q)/dp = digamma(p) - digamma(p + q).
    """
    xv = data.x_values
    has_repeat = xv > 0
    b_repeat = np.where(has_repeat, b + xv - 1, 1.0)  # b + x - 1 only exists for x > 0
    beta_ab = betaln(a, b)
    log_alpha_T = np.log(alpha + data.T_values)[data.T_index]
    log_alpha_t = np.log(alpha + data.t_values)[data.t_index]
    common = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha))[data.x_index]
    r_x = (r + xv)[data.x_index]
    alive = (betaln(a, b + xv) - beta_ab)[data.x_index] - r_x * log_alpha_T
    dropout_x = np.where(has_repeat, betaln(a + 1, b_repeat) - beta_ab, -np.inf)
    dropout = np.where(data.repeat, dropout_x[data.x_index] - r_x * log_alpha_t, -np.inf)
    both = np.logaddexp(alive, dropout)
    total = float(np.dot(data.weight, common + both))

    w_alive = np.exp(alive - both)
    w_dropout = 1.0 - w_alive
    psi_abx = digamma(a + b + xv)
    d_r = (digamma(r + xv) - digamma(r) + np.log(alpha))[data.x_index] - (
        w_alive * log_alpha_T + w_dropout * log_alpha_t
    )
    d_alpha = r / alpha - r_x * (
        w_alive / (alpha + data.T_values)[data.T_index]
        + w_dropout / (alpha + data.t_values)[data.t_index]
    )
    d_ab_a = digamma(a) - digamma(a + b)
    d_ab_b = digamma(b) - digamma(a + b)
    d_a = (
        w_alive * (digamma(a) - psi_abx)[data.x_index]
        + w_dropout * (digamma(a + 1) - psi_abx)[data.x_index]
        - d_ab_a
    )
    psi_b_repeat = np.where(has_repeat, digamma(b_repeat), 0.0)
    d_b = (
        w_alive * (digamma(b + xv) - psi_abx)[data.x_index]
        + w_dropout * (psi_b_repeat - psi_abx)[data.x_index]
        - d_ab_b
    )
    gradient = np.array(
        [np.dot(data.weight, d) for d in (d_r, d_alpha, d_a, d_b)]
    ) * np.array([r, alpha, a, b])
    return total, gradient


# ---------------------------------------------------------------- MBG/NBD


def mbgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float,
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
) -> np.ndarray:
    """Per-customer log-likelihood (Batislam et al. 2007): like BG/NBD, but the dropout
    term exists for x = 0 too (leaving right after the first purchase)."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1)
             - betaln(a, b) - (r + x) * np.log(alpha + T_))
    # B(a + 1, b + x) / B(a, b + x + 1) = a / (b + x)
    dropout_over_alive = np.log(a) - np.log(b + x) + (r + x) * (
        np.log(alpha + T_) - np.log(alpha + t_x))
    return alive + np.logaddexp(0.0, dropout_over_alive)


def _mbgnbd_ll_and_gradient(data: _Triples, r: float, alpha: float, a: float, b: float
                            ) -> tuple[float, np.ndarray]:
    """Total log-likelihood and gradient in log parameters. Per group
    LL = C(x) - (r+x) log(alpha+T) + softplus(D), D = log a - log(b+x) + (r+x)(log(alpha+T)
    - log(alpha+t_x)); d softplus(D) = sigmoid(D) dD."""
    xv = data.x_values
    xi = data.x_index
    log_alpha_T = np.log(alpha + data.T_values)[data.T_index]
    log_alpha_t = np.log(alpha + data.t_values)[data.t_index]
    r_x = (r + xv)[xi]
    common = (gammaln(r + xv) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xv + 1)
              - betaln(a, b))[xi] - r_x * log_alpha_T
    dropout = (np.log(a) - np.log(b + xv))[xi] + r_x * (log_alpha_T - log_alpha_t)
    total = float(np.dot(data.weight, common + np.logaddexp(0.0, dropout)))

    sigma = 0.5 * (1.0 + np.tanh(0.5 * dropout))  # sigmoid without overflow warnings
    inv_T = (1.0 / (alpha + data.T_values))[data.T_index]
    inv_t = (1.0 / (alpha + data.t_values))[data.t_index]
    psi_ab = digamma(a + b)
    psi_abx1 = digamma(a + b + xv + 1)
    d_r = (digamma(r + xv) - digamma(r) + np.log(alpha))[xi] - log_alpha_T + sigma * (
        log_alpha_T - log_alpha_t)
    d_alpha = r / alpha - r_x * inv_T + sigma * r_x * (inv_T - inv_t)
    d_a = (psi_ab - psi_abx1)[xi] + sigma / a
    d_b = (digamma(b + xv + 1) - psi_abx1 - digamma(b) + psi_ab)[xi] - sigma * (
        1.0 / (b + xv))[xi]
    gradient = np.array(
        [np.dot(data.weight, d) for d in (d_r, d_alpha, d_a, d_b)]
    ) * np.array([r, alpha, a, b])
    return total, gradient


# ---------------------------------------------------------------- Pareto/NBD


def _pareto_log_a0(r: float, alpha: float, s: float, beta: float,
                   x: np.ndarray, t_x: np.ndarray, T_: np.ndarray) -> np.ndarray:
    """log A0 (Fader & Hardie's note on the Pareto/NBD likelihood): A0 = F(t_x) - F(T)
    with F(y) = 2F1(r+s+x, c; r+s+x+1; |alpha-beta| / (m+y)) / (m+y)^(r+s+x),
    m = max(alpha, beta), c = s+1 when alpha >= beta else r+x. Taken in logs:
    log F(t_x) + log1p(-F(T)/F(t_x)); -inf when t_x = T (no time to leave unseen)."""
    at_t, at_T = _pareto_log_f(r, alpha, s, beta, x, t_x), _pareto_log_f(r, alpha, s, beta, x, T_)
    with np.errstate(divide="ignore"):
        return at_t + np.log1p(-np.exp(np.minimum(at_T - at_t, 0.0)))


def pareto_log_likelihood(
    r: float, alpha: float, s: float, beta: float,
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood in log-sum-exp form."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    log_a0 = _pareto_log_a0(r, alpha, s, beta, x, t_x, T_)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T_) - s * np.log(beta + T_)
    dropout = np.log(s) - np.log(r + s + x) + log_a0
    return common + np.logaddexp(alive, dropout)


def _pareto_log_f(r: float, alpha: float, s: float, beta: float, x: np.ndarray, y: np.ndarray
                  ) -> np.ndarray:
    """log F(y) of _pareto_log_a0, per (x, y) pair."""
    big, small = max(alpha, beta), min(alpha, beta)
    rsx = r + s + x
    c = s + 1.0 if alpha >= beta else r + x
    return np.log(hyp2f1(rsx, c, rsx + 1.0, (big - small) / (big + y))) - rsx * np.log(big + y)


# Step of the forward differences of log F in log parameters: truncation (~h) and
# rounding (~1e-16 / h) errors are ~1e-8 per customer, far below what moves the optimum
# (forward rather than central: hyp2f1 is most of a fit's time).
_PARETO_STEP = 1e-8


def _pareto_ll_and_gradient(data: _Triples, r: float, alpha: float, s: float, beta: float
                            ) -> tuple[float, np.ndarray]:
    """Total Pareto/NBD log-likelihood and its gradient in log parameters.

    Everything is differentiated by hand except log F, whose hyp2f1 has no cheap
    derivative in its parameters: that part is differenced numerically, on the distinct
    (x, t_x) and (x, T) pairs only, so a gradient costs 4 more hyp2f1 batches on a few
    thousand pairs instead of 4 more likelihoods. With rho = F(T) / F(t_x),
    d log A0 = (d log F(t_x) - rho d log F(T)) / (1 - rho).
    """
    theta = np.array([r, alpha, s, beta])
    lf_t = _pareto_log_f(*theta, data.xt_x, data.xt_t)
    lf_T = _pareto_log_f(*theta, data.xT_x, data.xT_T)
    at_t, at_T = lf_t[data.xt_index], lf_T[data.xT_index]
    rho = np.exp(np.minimum(at_T - at_t, 0.0))
    with np.errstate(divide="ignore"):
        log_a0 = at_t + np.log1p(-rho)
    xv, xi = data.x_values, data.x_index
    x = data.x
    rsx = r + s + x
    log_alpha_T = np.log(alpha + data.T_values)[data.T_index]
    log_beta_T = np.log(beta + data.T_values)[data.T_index]
    common = (gammaln(r + xv) - gammaln(r))[xi] + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * log_alpha_T - s * log_beta_T
    dropout = np.log(s) - np.log(rsx) + log_a0
    both = np.logaddexp(alive, dropout)
    total = float(np.dot(data.weight, common + both))

    w_dropout = np.exp(dropout - both)
    w_alive = 1.0 - w_dropout
    gaps = rho < 1.0
    spread = np.where(gaps, 1.0 - rho, 1.0)
    d_log_a0 = []
    for i in range(4):
        up = theta.copy()
        up[i] *= np.exp(_PARETO_STEP)
        d_t = (_pareto_log_f(*up, data.xt_x, data.xt_t) - lf_t) / _PARETO_STEP
        d_T = (_pareto_log_f(*up, data.xT_x, data.xT_T) - lf_T) / _PARETO_STEP
        d_log_a0.append(np.where(gaps, (d_t[data.xt_index] - rho * d_T[data.xT_index]) / spread,
                                 0.0))
    d_common = (
        r * (digamma(r + xv) - digamma(r) + np.log(alpha))[xi], r, s * np.log(beta), s)
    d_alive = (
        -r * log_alpha_T,
        -(r + x) * alpha * (1.0 / (alpha + data.T_values))[data.T_index],
        -s * log_beta_T,
        -s * beta * (1.0 / (beta + data.T_values))[data.T_index],
    )
    d_dropout = (-r / rsx, 0.0, 1.0 - s / rsx, 0.0)
    gradient = np.array([
        float(np.dot(data.weight, d_common[i] + w_alive * d_alive[i]
                     + w_dropout * (d_dropout[i] + d_log_a0[i])))
        for i in range(4)
    ])
    return total, gradient


# ---------------------------------------------------------------- fitting


def _maximise(negative_ll, start: np.ndarray):
    """Nelder-Mead to find the basin, then BFGS from there for the last digits.

    The simplex only has to get close: the BFGS polish converges to the same optimum
    far faster than a simplex shrunk to 1e-8, so its tolerance is loose.
    """
    result = minimize(
        negative_ll,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-4, "fatol": 1e-10, "maxiter": 20_000, "maxfev": 20_000},
    )
    polished = minimize(negative_ll, result.x, method="BFGS")
    return polished if polished.fun <= result.fun else result


# Log parameters beyond this are a degenerate model (rates of e^25 or e^-25 per period)
# where the special functions lose all precision; the search is kept out of them.
_LOG_PARAM_LIMIT = 25.0


def _fit_log_params(value_and_gradient, start: np.ndarray, customers: float
                    ) -> tuple[np.ndarray, float]:
    """Maximise a likelihood over log parameters (every parameter stays positive without
    bounds). BFGS from ``start`` with the gradient: a few dozen evaluations where the
    simplex needs a thousand; the simplex is the fallback when BFGS stops short.
    Returns (log params, log-likelihood).

    The objective is the mean log-likelihood per customer: its gradient and curvature
    then do not grow with the shop, so BFGS's first step (along the raw gradient) stays
    a sensible size and one tolerance fits 2,000 customers and 100,000.
    """
    size = len(start)

    def negative_ll_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        if np.max(np.abs(log_params)) > _LOG_PARAM_LIMIT:
            return 1e300, np.zeros(size)
        result, gradient = value_and_gradient(*np.exp(log_params))
        if not (np.isfinite(result) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros(size)
        return -result / customers, -gradient / customers

    def negative_ll(log_params: np.ndarray) -> float:
        return negative_ll_and_gradient(log_params)[0]

    best = minimize(negative_ll_and_gradient, start, jac=True, method="BFGS",
                    options={"gtol": 1e-7})
    # "Precision loss" at a zero gradient is still the optimum; anything else falls back.
    converged = best.fun < 1e300 and (best.success or float(np.max(np.abs(best.jac))) < 1e-5)
    if not converged:
        fallback = _maximise(negative_ll, best.x if best.fun < 1e300 else start)
        best = fallback if fallback.fun <= best.fun else best
    return best.x, float(-best.fun * customers)


def _log_params(params: CountParams) -> np.ndarray:
    if isinstance(params, ParetoNbdParams):
        return np.log([params.r, params.alpha, params.s, params.beta])
    return np.log([params.r, params.alpha, params.a, params.b])


def _start(model: CountModel, data: _Triples, like: CountParams | None) -> np.ndarray:
    """Where the search begins: ``like``'s parameters when it is the same model; its
    purchase rate (r, alpha), which every model shares, when it is another; else a
    neutral guess."""
    if like is not None and like.model == model:
        return _log_params(like)
    mean_T = max(float(np.dot(data.weight, data.T) / data.weight.sum()), 1e-3)
    start = np.log([1.0, mean_T, 1.0, mean_T if model == CountModel.PARETO else 1.0])
    if like is not None:
        start[:2] = np.log([like.r, like.alpha])
    return start


def _fit_triples(model: CountModel, data: _Triples, like: CountParams | None = None
                 ) -> CountParams:
    x0 = _start(model, data, like)
    if model == CountModel.PARETO:
        logs, ll = _fit_log_params(lambda *p: _pareto_ll_and_gradient(data, *p), x0,
                                   data.weight.sum())
        r, alpha, s, beta = np.exp(logs)
        return ParetoNbdParams(r=float(r), alpha=float(alpha), s=float(s), beta=float(beta),
                               log_likelihood=ll)
    grad = _bgnbd_ll_and_gradient if model == CountModel.BGNBD else _mbgnbd_ll_and_gradient
    logs, ll = _fit_log_params(lambda *p: grad(data, *p), x0, data.weight.sum())
    r, alpha, a, b = (float(v) for v in np.exp(logs))
    cls = BgNbdParams if model == CountModel.BGNBD else MbgNbdParams
    return cls(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll)


def fit_count_model(
    model: CountModel, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike,
    *, start: CountParams | None = None,
) -> CountParams:
    """Maximum-likelihood parameters of ``model``; ``start`` (e.g. the calibration fit)
    only sets where the search begins."""
    return _fit_triples(model, _Triples.build(frequency, recency, T), start)


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters."""
    params = fit_count_model(CountModel.BGNBD, frequency, recency, T)
    assert isinstance(params, BgNbdParams)
    return params


# ---------------------------------------------------------------- predictions


def _p_alive(params: CountParams, x: np.ndarray, t_x: np.ndarray, T_: np.ndarray) -> np.ndarray:
    r, alpha = params.r, params.alpha
    if isinstance(params, ParetoNbdParams):
        s, beta = params.s, params.beta
        log_a0 = _pareto_log_a0(r, alpha, s, beta, x, t_x, T_)
        log_ratio = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T_)
                     + s * np.log(beta + T_) + log_a0)
        return np.exp(-np.logaddexp(0.0, log_ratio))
    a, b = params.a, params.b
    growth = (r + x) * (np.log(alpha + T_) - np.log(alpha + t_x))
    if isinstance(params, MbgNbdParams):
        return np.exp(-np.logaddexp(0.0, np.log(a) - np.log(b + x) + growth))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) + growth
    return np.where(x > 0, np.exp(-np.logaddexp(0.0, log_ratio)), 1.0)


def p_alive(params: CountParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
            ) -> np.ndarray:
    """Probability that each customer has not left by T."""
    return _p_alive(params, *_as_arrays(frequency, recency, T))


def _expected(t: float, params: CountParams, x: np.ndarray, t_x: np.ndarray, T_: np.ndarray,
              alive: np.ndarray) -> np.ndarray:
    r, alpha = params.r, params.alpha
    if isinstance(params, ParetoNbdParams):
        s, beta = params.s, params.beta
        # (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), with its limit at s = 1.
        k = np.log1p(t / (beta + T_))
        factor = k if abs(s - 1.0) < 1e-9 else -np.expm1(-(s - 1.0) * k) / (s - 1.0)
        return (r + x) * (beta + T_) / (alpha + T_) * factor * alive
    a, b = params.a, params.b
    z = t / (alpha + T_ + t)
    shrink = ((alpha + T_) / (alpha + T_ + t)) ** (r + x)
    if isinstance(params, MbgNbdParams):
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, z)
        return (a + b + x) / (a - 1) * (1 - shrink * hyp) * alive
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * (1 - shrink * hyp) * alive


def expected_purchases(
    t: float, params: CountParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected number of purchases in the next ``t`` periods given each history."""
    x, t_x, T_ = _as_arrays(frequency, recency, T)
    return _expected(t, params, x, t_x, T_, _p_alive(params, x, t_x, T_))


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


# (p, q) of the starts; v starts where the population mean p v / (q - 1) is the sample's.
_GG_STARTS = ((1.0, 2.0), (6.0, 4.0), (30.0, 30.0))


def fit_gamma_gamma(frequency: ArrayLike, monetary_mean: ArrayLike) -> GammaGammaFit:
    """Fit on repeat buyers only (one-time buyers have no repeat value to average), from
    a few starts within bounds; the best optimum is usable only when it converged, lies
    inside the bounds and gives a finite mean spend."""
    x, m = _repeat_buyers(frequency, monetary_mean)
    # Money in units of the mean repeat value: the bounds and starts then fit any currency.
    scale = float(np.mean(m))
    m = m / scale
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
    sum_x = float(x.sum())

    def negative_ll_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params)
        px = p * x_values
        # log(v + x m) = log v + log1p(x m / v): one log and one division per buyer.
        log1p_xm_v = np.log1p(xm / v)
        inverse = 1.0 / (v + xm)
        value = (
            float(np.dot(x_weight, gammaln(px + q) - gammaln(px) - gammaln(q)))
            + p * (sum_x_log_m + sum_x_log_x)
            - sum_log_m
            - p * (np.log(v) * sum_x + float(np.dot(x, log1p_xm_v)))
            - q * float(log1p_xm_v.sum())
        )
        psi_pxq = digamma(px + q)
        d_p = (float(np.dot(x_weight, x_values * (psi_pxq - digamma(px))))
               + sum_x_log_m + sum_x_log_x - np.log(v) * sum_x - float(np.dot(x, log1p_xm_v)))
        d_q = float(np.dot(x_weight, psi_pxq - digamma(q))) - float(log1p_xm_v.sum())
        d_v = q / v * float(np.dot(xm, inverse)) - p * float(np.dot(x, inverse))
        gradient = -np.array([d_p * p, d_q * q, d_v * v])
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros(3)
        return -value, gradient

    bounds = [(np.log(_GG_LOWER), np.log(_GG_UPPER))] * 2 + [
        (np.log(_GG_V_LOWER), np.log(_GG_V_UPPER))]
    best = None
    for p0, q0 in _GG_STARTS:
        result = minimize(negative_ll_and_gradient, np.log([p0, q0, (q0 - 1) / p0]), jac=True,
                          method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7})
        # Two starts at the same optimum: a flat or many-peaked likelihood would rarely
        # bring them together, so the remaining starts are skipped (large shops).
        agreed = best is not None and abs(result.fun - best.fun) <= 1e-9 * abs(best.fun)
        if best is None or result.fun < best.fun:
            best = result
        if agreed:
            break
    p, q, v = np.exp(best.x)
    raw = GammaGammaParams(p=float(p), q=float(q), v=float(v * scale),
                           # the density of m is that of m / scale, divided by scale
                           log_likelihood=float(-best.fun - len(x) * np.log(scale)))
    lows, highs = np.array(bounds).T
    at_bound = bool(np.any(best.x - lows < _BOUNDARY_MARGIN)
                    or np.any(highs - best.x < _BOUNDARY_MARGIN))
    # Precision loss at a flat optimum is still an optimum; a large gradient is not.
    converged = best.fun < 1e300 and (
        best.success or float(np.max(np.abs(best.jac))) < 1e-3 * max(1.0, len(x)))
    problem = (SpendProblem.BOUNDARY if at_bound
               else SpendProblem.NOT_CONVERGED if not converged
               else SpendProblem.NO_FINITE_MEAN if q <= 1.0
               else None)
    return GammaGammaFit(params=raw if problem is None else None, problem=problem,
                         repeat_buyers=len(x), raw=raw)


def expected_average_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_mean: ArrayLike
) -> np.ndarray:
    """Posterior mean value per purchase; one-time buyers get the population mean.

    A mean below zero (repeat orders whose returns exceeded their goods) counts as zero:
    Gamma-Gamma models amounts above zero, and a purchase is worth no less than nothing,
    so no customer's expected value is negative.
    """
    x, m = _as_arrays(frequency, monetary_mean)
    m = np.maximum(m, 0.0)
    p, q, v = params.p, params.q, params.v
    population_mean = p * v / (q - 1) if q > 1 else np.nan
    posterior = p * (v + x * m) / (p * x + q - 1)
    return np.where(x > 0, posterior, population_mean)


# ---------------------------------------------------------------- CLV


def _monthly_purchases(params: CountParams, data: _Triples, alive: np.ndarray,
                       horizon_months: int, annual_discount_rate: float, period_days: float
                       ) -> np.ndarray:
    """Per group: discounted expected purchases over the horizon, month by month."""
    periods_per_month = _DAYS_PER_MONTH / period_days
    total = np.zeros(len(data.x))
    previous = np.zeros(len(data.x))
    for month in range(1, horizon_months + 1):
        cumulative = _expected(month * periods_per_month, params, data.x, data.t, data.T, alive)
        total += (cumulative - previous) * (1 + annual_discount_rate) ** (-month / 12)
        previous = cumulative
    return total


def customer_lifetime_value(
    count_params: CountParams,
    gamma_gamma: GammaGammaParams,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.0,
    period_days: float = PERIOD_DAYS,
) -> pd.Series:
    """Expected net value over ``horizon_months`` (see the module docstring)."""
    data = _Triples.build(summary["frequency"], summary["recency"], summary["T"])
    alive = _p_alive(count_params, data.x, data.t, data.T)
    purchases = data.per_customer(_monthly_purchases(
        count_params, data, alive, horizon_months, annual_discount_rate, period_days))
    value = expected_average_value(gamma_gamma, summary["frequency"], summary["monetary_value"])
    return pd.Series(purchases * value, index=summary.index, name="clv")


def holdout_window_days(history_days: float) -> float | None:
    """Days held out to choose the model; None when the history is too short."""
    days = min(MAX_HOLDOUT_DAYS, history_days / 3)
    return days if days >= MIN_HOLDOUT_DAYS else None


def _compare(days: pd.DataFrame, calibration_end_day: pd.Timestamp,
             holdout_end_day: pd.Timestamp, period_days: float, max_bucket: int
             ) -> HoldoutValidation | None:
    """Fit every model on the purchase days up to ``calibration_end_day`` and check each
    on the repeat purchase days after it, up to ``holdout_end_day``; None when no eligible
    model gives finite predictions."""
    summary = _summary_from_days(days, calibration_end_day, period_days)
    holdout_periods = (holdout_end_day - calibration_end_day) / pd.Timedelta(days=period_days)
    data = _Triples.build(summary["frequency"], summary["recency"], summary["T"])
    in_holdout = days.loc[(days["day"] > calibration_end_day) & (days["day"] <= holdout_end_day)]
    actual = (in_holdout.groupby("customer_id").size()
              .reindex(summary.index, fill_value=0).to_numpy(dtype=float))
    bucket = summary["frequency"].clip(upper=max_bucket).to_numpy()
    checks = []
    params: CountParams | None = None
    for model in CountModel:
        # Each model starts from the previous one's purchase rate: a good start saves
        # most of the iterations.
        params = _fit_triples(model, data, params)
        alive = _p_alive(params, data.x, data.t, data.T)
        predicted = data.per_customer(
            _expected(holdout_periods, params, data.x, data.t, data.T, alive))
        if not np.isfinite(predicted).all():
            continue  # a degenerate fit (see UNFITTED): no check to compare or show
        by_frequency = (
            pd.DataFrame({"frequency": bucket, "predicted": predicted, "actual": actual})
            .groupby("frequency")
            .agg(customers=("actual", "size"), predicted=("predicted", "mean"),
                 actual=("actual", "mean"))
            .reset_index()
        )
        checks.append(ModelCheck(
            params=params, predicted_total=float(predicted.sum()),
            actual_total=float(actual.sum()),
            rmse=float(np.sqrt(np.mean((predicted - actual) ** 2))), by_frequency=by_frequency,
        ))
    eligible = [c for c in checks if c.model in ELIGIBLE_MODELS]
    if not eligible:
        return None
    chosen = min(eligible, key=lambda c: c.rmse).model
    return HoldoutValidation(holdout_periods=float(holdout_periods), checks=tuple(checks),
                             chosen=chosen)


def holdout_validation(
    orders: pd.DataFrame,
    calibration_end: pd.Timestamp,
    holdout_end: pd.Timestamp,
    *,
    period_days: float = PERIOD_DAYS,
    max_bucket: int = 7,
) -> HoldoutValidation:
    """Fit every count model on the calibration period and compare predicted with actual
    holdout repeat purchases; the eligible model with the smallest error is chosen."""
    cal_day, _ = _day_end(calibration_end, orders["ordered_at"])
    hold_day, hold_end = _day_end(holdout_end, orders["ordered_at"])
    return _compare(purchase_days(orders, hold_end), cal_day, hold_day, period_days, max_bucket)


def estimate_clv(
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.0,
    period_days: float = PERIOD_DAYS,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
) -> ClvResult:
    """Choose the count model on a holdout, fit it and Gamma-Gamma on all orders up to
    ``as_of``, and value every customer."""
    end_day, end = _day_end(orders["ordered_at"].max() if as_of is None else as_of,
                            orders["ordered_at"])
    days = purchase_days(orders, end)
    summary = _summary_from_days(days, end_day, period_days)
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if repeat < min_repeat_buyers:
        return ClvResult(
            enough_history=False,
            reason=(
                f"Only {repeat:,} customers have bought on more than one day; "
                f"at least {min_repeat_buyers:,} are needed to estimate lifetime value."
            ),
            repeat_buyers=repeat,
        )
    holdout_days = holdout_window_days((end_day - days["day"].min()) / pd.Timedelta(days=1))
    holdout = None
    basis = ChoiceBasis.NO_HOLDOUT
    if holdout_days is not None:
        calibration_end_day = (end_day - pd.Timedelta(days=holdout_days)).floor("D")
        calibration = days.loc[days["day"] <= calibration_end_day, "customer_id"]
        calibration_repeat = calibration[calibration.duplicated()].nunique()
        if calibration_repeat >= min_repeat_buyers:
            holdout = _compare(days, calibration_end_day, end_day, period_days, max_bucket=7)
            basis = ChoiceBasis.HOLDOUT if holdout is not None else ChoiceBasis.HOLDOUT_UNFITTED
    chosen = holdout.chosen if holdout is not None else DEFAULT_MODEL
    data = _Triples.build(summary["frequency"], summary["recency"], summary["T"])
    count_params = _fit_triples(
        chosen, data, holdout.chosen_check.params if holdout is not None else None)
    spend = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])

    alive = _p_alive(count_params, data.x, data.t, data.T)
    purchases = data.per_customer(_monthly_purchases(
        count_params, data, alive, horizon_months, annual_discount_rate, period_days))
    estimates = {
        "p_alive": data.per_customer(alive),
        "expected_orders_90": data.per_customer(
            _expected(90 / period_days, count_params, data.x, data.t, data.T, alive)),
        "expected_orders_365": data.per_customer(
            _expected(365 / period_days, count_params, data.x, data.t, data.T, alive)),
        "expected_purchases": data.per_customer(_expected(
            horizon_months * _DAYS_PER_MONTH / period_days, count_params, data.x, data.t,
            data.T, alive)),
    }
    if not all(np.isfinite(v).all() for v in (purchases, *estimates.values())):
        return ClvResult(enough_history=False, reason=UNFITTED, repeat_buyers=repeat)
    if spend.params is not None:
        value = expected_average_value(spend.params, summary["frequency"],
                                       summary["monetary_value"])
    else:
        value = np.full(len(summary), np.nan)
    customers = summary.assign(**estimates, expected_average_value=value, clv=purchases * value)
    return ClvResult(
        enough_history=True,
        reason=f"Fitted on {len(summary):,} customers, {repeat:,} of them repeat buyers.",
        repeat_buyers=repeat,
        count_params=count_params,
        choice_basis=basis,
        holdout=holdout,
        holdout_days=holdout_days if holdout is not None else None,
        spend=spend,
        customers=customers,
    )


# ---------------------------------------------------------------- plain readings


@dataclass(frozen=True, kw_only=True, slots=True)
class CountReading:
    """What a count model's parameters mean for a typical customer (the page words it)."""

    orders_per_year: float  # while still a customer: the mean rate r / alpha
    rates_vary_widely: bool  # r < 1: most customers buy rarely, a few very often
    leave_share: float | None  # BG, MBG: mean chance a / (a + b) of leaving after a purchase
    months_stayed: float | None  # Pareto: 1 / mean leaving rate (beta / s), in months


@dataclass(frozen=True, kw_only=True, slots=True)
class SpendReading:
    typical_order_value: float  # the population mean p v / (q - 1)
    # After one repeat order, the share of a customer's predicted order value that is
    # their own average (the rest is the typical order): p / (p + q - 1).
    own_share_after_one: float


def count_reading(model: CountModel | str, params: dict[str, float],
                  period_days: float = PERIOD_DAYS) -> CountReading:
    periods_per_year = _DAYS_PER_YEAR / period_days
    pareto = CountModel(model) == CountModel.PARETO
    return CountReading(
        orders_per_year=params["r"] / params["alpha"] * periods_per_year,
        rates_vary_widely=params["r"] < 1.0,
        leave_share=None if pareto else params["a"] / (params["a"] + params["b"]),
        months_stayed=(params["beta"] / params["s"] * period_days / _DAYS_PER_MONTH
                       if pareto else None),
    )


def spend_reading(params: dict[str, float]) -> SpendReading:
    p, q, v = params["p"], params["q"], params["v"]
    return SpendReading(typical_order_value=p * v / (q - 1.0),
                        own_share_after_one=p / (p + q - 1.0))
