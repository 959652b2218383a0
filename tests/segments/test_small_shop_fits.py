"""Small shops of ordinary shapes: the analysis finishes and says nothing a degenerate fit
would make up (issue found by the reconciliation audit: NaN totals failed the run)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.ingest.helpers_db import import_bytes
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db(transaction=True)


def _shop(seed: int, customers: int = 70, orders: int = 300) -> bytes:
    # Customers who buy at evenly random times over two years: no rhythm of their own.
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    lines = ["order_id,email,ordered_at,sku,quantity,line_total"]
    for n in range(orders):
        at = start + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        lines.append(f"{n + 1},c{rng.randrange(customers)}@example.com,{at.isoformat()},"
                     f"S{rng.randrange(5)},1,{rng.choice(['9.50', '12.00', '24.90'])}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("seed", range(6))
def test_a_small_shop_buying_at_random_times_is_analysed(seed):
    job = import_bytes(_shop(seed))
    assert job.status == "succeeded", job.error

    run = run_refresh(rules=False)

    assert run.status == "succeeded", run.error


def test_a_shop_whose_holdout_fits_degenerate_says_why_the_default_model_is_used(owner_client):
    # Seed 1: on the calibration months both eligible models run to their limits (NaN).
    import_bytes(_shop(1))
    run = run_refresh(rules=False)

    clv = run.metrics["clv"]
    assert clv["enough_history"] and clv["model"]["basis"] == "holdout_unfitted"
    assert "comparison" not in clv  # nothing made up to compare
    page = owner_client.get("/segments/models/").content.decode()
    assert "On the held-out months no model found a stable fit to compare" in page


def test_no_stable_fit_is_said_in_both_languages():
    from django.utils import translation

    from segments.analysis.clv import UNFITTED
    from segments.computed_text import run_note

    with translation.override("zh-hans"):
        assert run_note(UNFITTED) == "价值模型无法对这些订单得到稳定的拟合，因此不估算价值。"
    with translation.override("en"):
        assert run_note(UNFITTED) == UNFITTED
