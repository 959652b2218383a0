"""Write a large, realistic order-lines CSV for loader and analysis benchmarks.

Reuses the demo shop's purchase model with more customers and a purchase rate
scaled so the file reaches the requested number of lines; rows stream to disk.

    python benchmarks/generate_orders.py OUT.csv --lines 1000000 --customers 100000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.demo.generate import iter_order_lines, write_order_lines

PILOT_CUSTOMERS = 4000


def _lines_per_customer(multiplier: float, seed: int) -> float:
    return (
        sum(
            1
            for _ in iter_order_lines(
                customers=PILOT_CUSTOMERS, seed=seed, rate_multiplier=multiplier
            )
        )
        / PILOT_CUSTOMERS
    )


def calibrate_rate(lines: int, customers: int, seed: int) -> float:
    """Find the purchase-rate multiplier giving ~lines/customers lines per customer (a few pilot runs)."""
    target = lines / customers
    low, high = 0.05, 1.0
    while _lines_per_customer(high, seed) < target and high < 256:
        low, high = high, high * 2
    for _ in range(6):
        middle = (low + high) / 2
        if _lines_per_customer(middle, seed) < target:
            low = middle
        else:
            high = middle
    # A little headroom: the pilot is a sample, and we stop at exactly `lines`.
    return high * 1.05


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    multiplier = calibrate_rate(args.lines, args.customers, args.seed)
    written = write_order_lines(
        args.out,
        iter_order_lines(customers=args.customers, seed=args.seed, rate_multiplier=multiplier),
        limit=args.lines,
    )
    elapsed = time.perf_counter() - started
    print(
        f"wrote {written:,} lines for {args.customers:,} customers to {args.out} "
        f"(rate x{multiplier:.2f}) in {elapsed:.1f}s"
    )
    if written < args.lines:
        print(
            f"warning: the model ran out of purchases {args.lines - written:,} lines early",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
