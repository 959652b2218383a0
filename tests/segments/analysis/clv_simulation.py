"""Order histories drawn from the count models themselves, to test the model choice.

Each customer's first purchase falls on a random day of the first ``cohort_days``; while
alive they buy at a Poisson rate lambda ~ Gamma(r, alpha) per week. Pareto/NBD: they
leave after an exponential lifetime with rate mu ~ Gamma(s, beta). MBG/NBD: after each
purchase, the first included, they leave with probability p ~ Beta(a, b).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2022-01-01")


def _orders(customer: np.ndarray, week: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": customer,
        "order_id": np.arange(len(customer)),
        "ordered_at": START + pd.to_timedelta(np.floor(week * 7), unit="D"),
        "net_total": np.round(rng.gamma(4.0, 10.0, size=len(customer)), 2),
    })


def pareto_orders(n: int, *, r: float, alpha: float, s: float, beta: float, days: int,
                  cohort_days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, cohort_days / 7, n)
    rate = rng.gamma(r, 1 / alpha, n)
    lifetime = rng.exponential(1 / rng.gamma(s, 1 / beta, n))
    alive_for = np.minimum(lifetime, days / 7 - birth)
    count = rng.poisson(rate * alive_for)
    owner = np.repeat(np.arange(n), count)
    repeat_week = birth[owner] + rng.uniform(0, 1, len(owner)) * alive_for[owner]
    return _orders(np.concatenate([np.arange(n), owner]),
                   np.concatenate([birth, repeat_week]), rng)


def mbgnbd_orders(n: int, *, r: float, alpha: float, a: float, b: float, days: int,
                  cohort_days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, cohort_days / 7, n)
    rate = rng.gamma(r, 1 / alpha, n)
    leave = rng.beta(a, b, n)
    customers, weeks = [np.arange(n)], [birth]
    now, active = birth.copy(), rng.uniform(size=n) >= leave  # may leave after the first
    while active.any():
        now = now + rng.exponential(1 / rate)
        active &= now < days / 7
        customers.append(np.flatnonzero(active))
        weeks.append(now[active])
        active &= rng.uniform(size=n) >= leave
    return _orders(np.concatenate(customers), np.concatenate(weeks), rng)
