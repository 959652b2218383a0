"""One grocery-style household: a customer with thousands of order lines.

The generated shops give each customer ~10 lines; a grocery shop's households
average ~600 and some pass 4,000. The pages benchmark imports this household
beside the generated shop (through the real import) and times their profile.

    python -m benchmarks.household OUT.csv --lines 4500 --per-order 12
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from ingest.demo.catalog import PRODUCTS
from ingest.demo.generate import END, write_order_lines

EMAIL = "household@grocery.example"


def iter_household_lines(*, lines: int, per_order: int = 12, seed: int = 5,
                         email: str = EMAIL) -> Iterator[tuple[str, ...]]:
    """Rows (as ingest.demo.generate.COLUMNS) of one customer's weekly shop, oldest first.

    Each order holds `per_order` distinct products, drawn mostly from a "usual basket"
    of 40 so the products bought repeat across orders as a household's do.
    """
    rng = random.Random(seed)
    usual = rng.sample(PRODUCTS, min(40, len(PRODUCTS)))
    orders = -(-lines // per_order)
    written = 0
    for n in range(orders):
        when = END - timedelta(days=3 * (orders - n), hours=rng.randint(0, 12))
        basket: dict[str, object] = {}
        while len(basket) < min(per_order, lines - written):
            product = rng.choice(usual) if rng.random() < 0.8 else rng.choice(PRODUCTS)
            basket[product.sku] = product
        for product in basket.values():
            yield (f"H{n + 1:06d}", email, "Grace", "Household", "DE", "Berlin", "true",
                   when.strftime("%Y-%m-%d %H:%M:%S"), product.sku, product.name,
                   product.category, str(rng.randint(1, 3)), str(product.price))
            written += 1


def write_household(path: str | Path, *, lines: int, per_order: int = 12) -> int:
    return write_order_lines(path, iter_household_lines(lines=lines, per_order=per_order))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=4500)
    parser.add_argument("--per-order", type=int, default=12)
    args = parser.parse_args()
    written = write_household(args.out, lines=args.lines, per_order=args.per_order)
    print(f"wrote {written:,} lines for one household to {args.out} ({datetime.now():%H:%M})")


if __name__ == "__main__":
    main()
