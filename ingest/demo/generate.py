"""Deterministic demo shop: two years of order lines for a coffee & tea shop.

Purchases follow a BG/NBD-like process (Fader, Hardie & Lee 2005): each
customer buys at their own Poisson rate (gamma-distributed across customers)
and may drop out after each purchase (beta-distributed probability), so there
are loyal regulars, one-off buyers and churners. Demand peaks in December.
Orders are emitted in time order from a heap, so the file streams to disk with
memory proportional to the number of customers, not lines.

    python -m ingest.demo.generate OUT.csv [--customers 3000] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import heapq
import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ingest.demo.catalog import CATEGORIES, PRODUCT_AFFINITIES, PRODUCTS, PRODUCTS_BY_NAME, Product

COLUMNS: tuple[str, ...] = (
    "order_id",
    "email",
    "first_name",
    "last_name",
    "country",
    "city",
    "accepts_marketing",
    "ordered_at",
    "sku",
    "product_name",
    "category",
    "quantity",
    "unit_price",
)
END = datetime(2026, 10, 31, 23, 59, 59)
START = datetime(2024, 11, 1)
WEEKS = (END - START).total_seconds() / (7 * 86400)

# Relative demand by month (Jan..Dec): gift season dominates.
SEASONALITY: tuple[float, ...] = (0.85, 0.85, 0.9, 0.9, 0.95, 0.9, 0.85, 0.85, 0.95, 1.0, 1.35, 1.9)
_SEASON_MAX = max(SEASONALITY)
# Order hour-of-day weights (00..23): mornings and evenings.
_HOURS = (
    1,
    0.5,
    0.3,
    0.2,
    0.2,
    0.4,
    1.5,
    3,
    4,
    4,
    3.5,
    3,
    3.5,
    3,
    2.5,
    2.5,
    3,
    3.5,
    4.5,
    5.5,
    6,
    5,
    3.5,
    2,
)
_HOURS_CUM = list(np.cumsum(_HOURS) / sum(_HOURS))

# BG/NBD-style parameters, per week. Purchase rate ~ Gamma(r, 1/alpha): mean ~0.09/week;
# dropout after a purchase ~ Beta(a, b): mean ~0.2. Coffee is bought more often than CDs.
RATE_SHAPE = 0.8
RATE_SCALE = 1 / 9.0
DROPOUT_A = 0.8
DROPOUT_B = 3.2

BUNDLE_SHARE = 0.3
RETURN_SHARE = 0.02
DIRTY_EMAIL_SHARE = 0.01
DUPLICATE_LINE_SHARE = 0.002

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hannah",
    "Ian",
    "Julia",
    "Karim",
    "Lena",
    "Marco",
    "Nina",
    "Oscar",
    "Paula",
    "Quentin",
    "Rosa",
    "Sam",
    "Tara",
    "Umut",
    "Vera",
    "Wei",
    "Yuki",
    "Zoe",
    "Amara",
    "Luca",
    "Sofia",
    "Noah",
    "Mia",
    "Jonas",
    "Emma",
    "Liam",
    "Chloé",
    "Mateo",
    "Aiko",
    "Priya",
    "Omar",
    "Ingrid",
    "Sean",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Smith",
    "Jones",
    "Dubois",
    "Martin",
    "Rossi",
    "Bianchi",
    "García",
    "López",
    "Jansen",
    "de Vries",
    "Novak",
    "Kowalski",
    "Nielsen",
    "Hansen",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Okafor",
    "Mensah",
    "Silva",
    "Costa",
    "Brown",
    "Taylor",
    "Fischer",
    "Weber",
    "Moreau",
    "Laurent",
)
_ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "í": "i", "ó": "o", " ": ""})
PLACES: tuple[tuple[str, str, float], ...] = (
    ("DE", "Berlin", 10),
    ("DE", "Hamburg", 6),
    ("DE", "Munich", 6),
    ("DE", "Cologne", 4),
    ("DE", "Leipzig", 2),
    ("AT", "Vienna", 4),
    ("CH", "Zurich", 3),
    ("NL", "Amsterdam", 4),
    ("NL", "Utrecht", 2),
    ("FR", "Paris", 4),
    ("FR", "Lyon", 2),
    ("GB", "London", 4),
    ("GB", "Manchester", 2),
    ("DK", "Copenhagen", 2),
    ("BE", "Brussels", 2),
    ("IT", "Milan", 2),
    ("ES", "Barcelona", 2),
)
_PLACES_CUM = list(np.cumsum([w for _, _, w in PLACES]) / sum(w for _, _, w in PLACES))
DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "post.example")


class _Uniforms:
    """Scalar U(0,1) draws from a seeded numpy Generator, buffered for speed."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buffer: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._next >= len(self._buffer):
            self._buffer = self._rng.random(65536).tolist()
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return value


@dataclass(frozen=True, kw_only=True, slots=True)
class _Customer:
    email: str
    first_name: str
    last_name: str
    country: str
    city: str
    accepts_marketing: str
    rate: float
    dropout: float
    category_cum: list[float]


def _make_customers(
    rng: np.random.Generator, count: int, rate_multiplier: float
) -> list[_Customer]:
    rates = rng.gamma(RATE_SHAPE, RATE_SCALE, size=count) * rate_multiplier
    dropouts = rng.beta(DROPOUT_A, DROPOUT_B, size=count)
    # Coffee people and tea people: sparse category preferences.
    prefs = rng.dirichlet(np.full(len(CATEGORIES), 0.35), size=count)
    prefs = 0.9 * prefs + 0.1 / len(CATEGORIES)
    category_cum = np.cumsum(prefs, axis=1).tolist()
    firsts = rng.integers(0, len(FIRST_NAMES), size=count)
    lasts = rng.integers(0, len(LAST_NAMES), size=count)
    places = np.searchsorted(_PLACES_CUM, rng.random(count), side="right")
    domains = rng.integers(0, len(DOMAINS), size=count)
    marketing = rng.random(count) < 0.6
    customers: list[_Customer] = []
    for i in range(count):
        first, last = FIRST_NAMES[firsts[i]], LAST_NAMES[lasts[i]]
        country, city, _ = PLACES[min(int(places[i]), len(PLACES) - 1)]
        local = f"{first.lower().translate(_ASCII)}.{last.lower().translate(_ASCII)}{i}"
        customers.append(
            _Customer(
                email=f"{local}@{DOMAINS[domains[i]]}",
                first_name=first,
                last_name=last,
                country=country,
                city=city,
                accepts_marketing="yes" if marketing[i] else "no",
                rate=float(rates[i]),
                dropout=float(dropouts[i]),
                category_cum=category_cum[i],
            )
        )
    return customers


def _season(week: float, start: datetime) -> float:
    return SEASONALITY[(start + timedelta(weeks=week)).month - 1]


def _first_purchase_weeks(rng: np.random.Generator, count: int, start: datetime) -> list[float]:
    # The shop grows (acquisition density rises linearly) and acquires more in the gift season.
    accepted: list[float] = []
    while len(accepted) < count:
        candidates = WEEKS * np.sqrt(rng.random(2 * count))
        keep = rng.random(2 * count) < np.array([_season(w, start) for w in candidates]) / _SEASON_MAX
        accepted.extend(candidates[keep].tolist())
    return accepted[:count]


def _category_products() -> dict[str, tuple[list[Product], list[float]]]:
    table: dict[str, tuple[list[Product], list[float]]] = {}
    for category in CATEGORIES:
        members = [p for p in PRODUCTS if p.category == category]
        # Zipf-like popularity inside a category.
        weights = np.array([1 / (rank + 1) ** 0.9 for rank in range(len(members))])
        table[category] = (members, (np.cumsum(weights) / weights.sum()).tolist())
    return table


def _timestamp(week: float, u: _Uniforms, start: datetime) -> datetime:
    day = start + timedelta(days=math.floor(week * 7))
    hour = bisect_right(_HOURS_CUM, u())
    return day + timedelta(hours=min(hour, 23), minutes=int(u() * 60), seconds=int(u() * 60))


def iter_order_lines(
    *, customers: int, seed: int, rate_multiplier: float = 1.0, end: datetime = END
) -> Iterator[tuple[str, ...]]:
    """Yield CSV rows (as `COLUMNS`) in time order, over the two years up to `end`; fully
    determined by the arguments."""
    start = end - (END - START)
    rng = np.random.default_rng(seed)
    people = _make_customers(rng, customers, rate_multiplier)
    first_weeks = _first_purchase_weeks(rng, customers, start)
    u = _Uniforms(rng)
    by_category = _category_products()
    bundles = [[PRODUCTS_BY_NAME[name] for name in bundle] for bundle in PRODUCT_AFFINITIES]
    # (week, tiebreak, customer index, kind, payload)
    heap: list[tuple[float, int, int, str, tuple[str, ...]]] = [
        (week, i, i, "order", ()) for i, week in enumerate(first_weeks)
    ]
    heapq.heapify(heap)
    sequence = len(heap)
    next_order = 100001
    while heap:
        week, _, index, kind, payload = heapq.heappop(heap)
        person = people[index]
        when = _timestamp(week, u, start).strftime("%Y-%m-%d %H:%M:%S")
        if kind == "return":
            sku, name, category, quantity, price = payload
            yield (
                f"R{next_order}",
                person.email,
                person.first_name,
                person.last_name,
                person.country,
                person.city,
                person.accepts_marketing,
                when,
                sku,
                name,
                category,
                f"-{quantity}",
                price,
            )
            next_order += 1
            continue
        order_id = str(next_order)
        next_order += 1
        for product, quantity in _basket(person, u, by_category, bundles):
            email = person.email
            roll = u()
            if roll < DIRTY_EMAIL_SHARE / 2:
                email = f"  {email} "  # pasted with spaces
            elif roll < DIRTY_EMAIL_SHARE:
                email = email.upper() if u() < 0.5 else email.capitalize()
            row = (
                order_id,
                email,
                person.first_name,
                person.last_name,
                person.country,
                person.city,
                person.accepts_marketing,
                when,
                product.sku,
                product.name,
                product.category,
                str(quantity),
                str(product.price),
            )
            yield row
            if u() < DUPLICATE_LINE_SHARE:
                yield row  # exported twice, as real exports sometimes are
            if u() < RETURN_SHARE:
                back = week + (3 + 17 * u()) / 7
                if back < WEEKS:
                    heapq.heappush(
                        heap,
                        (
                            back,
                            sequence,
                            index,
                            "return",
                            (
                                product.sku,
                                product.name,
                                product.category,
                                str(quantity),
                                str(product.price),
                            ),
                        ),
                    )
                    sequence += 1
        # BG/NBD: after each purchase the customer may become inactive for good.
        if u() < person.dropout:
            continue
        t = week
        while True:
            t += -math.log(1.0 - u()) / (person.rate * _SEASON_MAX)
            if t >= WEEKS or u() < _season(t, start) / _SEASON_MAX:
                break
        if t < WEEKS:
            heapq.heappush(heap, (t, sequence, index, "order", ()))
            sequence += 1


def _basket(
    person: _Customer,
    u: _Uniforms,
    by_category: dict[str, tuple[list[Product], list[float]]],
    bundles: list[list[Product]],
) -> list[tuple[Product, int]]:
    chosen: dict[str, tuple[Product, int]] = {}
    if u() < BUNDLE_SHARE:
        for product in bundles[min(int(u() * len(bundles)), len(bundles) - 1)]:
            chosen[product.sku] = (product, 1)
    extra = 1 + _poisson(0.7, u) if not chosen else _poisson(0.6, u)
    for _ in range(min(extra, 6)):
        category = CATEGORIES[min(bisect_right(person.category_cum, u()), len(CATEGORIES) - 1)]
        members, cum = by_category[category]
        product = members[min(bisect_right(cum, u()), len(members) - 1)]
        consumable = category in {
            "Single-Origin Coffee",
            "Blends & Espresso",
            "Decaf",
            "Loose Leaf Tea",
            "Tea Bags",
        }
        quantity = 1 + (_poisson(0.5, u) if consumable else 0)
        chosen.setdefault(product.sku, (product, quantity))
    return list(chosen.values())


def _poisson(mean: float, u: _Uniforms) -> int:
    # Inversion: fine for the small means used here.
    k, p = 0, math.exp(-mean)
    cumulative, target = p, u()
    while target > cumulative and k < 20:
        k += 1
        p *= mean / k
        cumulative += p
    return k


def write_order_lines(
    path: str | Path, rows: Iterator[tuple[str, ...]], *, limit: int | None = None
) -> int:
    """Stream rows to a UTF-8 CSV with a header; returns the number of data lines written."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            if limit is not None and count >= limit:
                break
            writer.writerow(row)
            count += 1
    return count


def generate_demo_orders(
    path: str | Path, *, customers: int = 3000, seed: int = 7, end: datetime = END
) -> int:
    """Write the demo shop's order lines to `path`; same arguments, same bytes."""
    return write_order_lines(path, iter_order_lines(customers=customers, seed=seed, end=end))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo shop's order-lines CSV.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    lines = generate_demo_orders(args.out, customers=args.customers, seed=args.seed)
    print(f"wrote {lines:,} order lines for {args.customers:,} customers to {args.out}")


if __name__ == "__main__":
    main()
