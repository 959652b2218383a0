from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest

from ingest.demo.catalog import CATEGORIES, PRODUCT_AFFINITIES, PRODUCTS
from ingest.demo.generate import generate_demo_orders
from ingest.pipeline.mapping import propose_mapping
from ingest.pipeline.rows import read_rows
from ingest.pipeline.table import open_table


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    generate_demo_orders(path, customers=3000, seed=7)
    return path


@pytest.fixture(scope="module")
def demo_frame(demo_file: Path) -> tuple[pd.DataFrame, Counter[str], int]:
    with open(demo_file, "rb") as handle:
        proposed = propose_mapping(open_table(handle).raw_headers)
    frames, notes, rejections = [], Counter(), 0
    with open(demo_file, "rb") as handle:
        for chunk in read_rows(handle, proposed.to_mapping()):
            frames.append(chunk.frame)
            notes.update(chunk.notes)
            rejections += len(chunk.rejections)
    return pd.concat(frames, ignore_index=True), notes, rejections


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(
    demo_file: Path, tmp_path: Path
) -> None:
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    generate_demo_orders(again, customers=3000, seed=7)
    generate_demo_orders(other, customers=3000, seed=8)

    assert again.read_bytes() == demo_file.read_bytes()
    assert other.read_bytes() != demo_file.read_bytes()


def test_the_demo_file_loads_cleanly_with_only_intentional_dirt_noted(
    demo_frame: tuple[pd.DataFrame, Counter[str], int],
) -> None:
    frame, notes, rejections = demo_frame

    assert rejections == 0
    assert notes["lowercased email"] > 0 and notes["trimmed email whitespace"] > 0
    assert notes["dropped exact duplicate row"] > 0
    assert frame["customer_key"].nunique() == 3000
    assert frame["ordered_at"].max() <= pd.Timestamp("2026-11-01", tz="UTC")
    assert frame["ordered_at"].min() >= pd.Timestamp("2024-11-01", tz="UTC")


def test_the_demo_shop_looks_like_a_real_one(
    demo_frame: tuple[pd.DataFrame, Counter[str], int],
) -> None:
    frame, _, _ = demo_frame
    orders_per_customer = frame[~frame["is_return"]].groupby("customer_key")["order_key"].nunique()
    monthly = frame.groupby(frame["ordered_at"].dt.strftime("%Y-%m"))["order_key"].nunique()

    assert 200 <= len(PRODUCTS) <= 300 and len(CATEGORIES) == 12
    assert 0.3 < (orders_per_customer == 1).mean() < 0.7  # one-off buyers and regulars
    assert orders_per_customer.max() >= 10
    # The gift season peak stands out against its neighbours despite the shop's growth.
    assert monthly["2025-12"] > 1.3 * max(monthly["2025-10"], monthly["2026-01"])
    assert 0.01 < frame["is_return"].mean() < 0.03


def test_product_affinities_co_occur_far_more_than_chance(
    demo_frame: tuple[pd.DataFrame, Counter[str], int],
) -> None:
    frame, _, _ = demo_frame
    baskets = frame[~frame["is_return"]].groupby("order_key")["product_name"].agg(frozenset)
    total = len(baskets)
    support = Counter(name for basket in baskets for name in basket)
    pairs = Counter(pair for basket in baskets for pair in combinations(sorted(basket), 2))

    for bundle in PRODUCT_AFFINITIES:
        for a, b in combinations(sorted(bundle), 2):
            confidence = pairs[(a, b)] / support[a]
            lift = pairs[(a, b)] * total / (support[a] * support[b])
            assert confidence >= 0.4, (a, b, confidence)
            assert lift >= 5, (a, b, lift)


def test_the_demo_shop_spans_two_years_up_to_the_end_it_is_given(tmp_path: Path) -> None:
    from datetime import datetime

    path = tmp_path / "demo.csv"
    generate_demo_orders(path, customers=300, seed=7, end=datetime(2027, 3, 14, 23, 59, 59))
    dates = pd.to_datetime(pd.read_csv(path, usecols=["ordered_at"])["ordered_at"])

    assert dates.max() <= pd.Timestamp("2027-03-14 23:59:59")
    assert dates.max() >= pd.Timestamp("2027-02-14")  # a living shop: orders up to the end
    assert dates.min() >= pd.Timestamp("2025-03-15")
    # December is still the gift season, wherever the two years fall
    by_month = dates.dt.month.value_counts()
    assert by_month.idxmax() == 12


@pytest.mark.django_db(transaction=True)
def test_the_demo_shop_imported_on_first_start_ends_yesterday_in_the_shops_zone(settings) -> None:
    from zoneinfo import ZoneInfo

    from django.db.models import Max
    from django.utils import timezone

    from ingest.models import Order
    from ingest.services.demo import demo_import_if_empty

    settings.TIME_ZONE = "Pacific/Auckland"  # the shop's zone (SHOP_TIME_ZONE)
    demo_import_if_empty(customers=200)

    zone = ZoneInfo("Pacific/Auckland")
    newest = Order.objects.aggregate(newest=Max("ordered_at"))["newest"].astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    # nothing after yesterday (no order from the future), and recent: 200 customers may
    # leave a few quiet days at the end
    assert 1 <= (today - newest.date()).days <= 14
