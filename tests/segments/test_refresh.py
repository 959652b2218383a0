from __future__ import annotations

import pandas as pd
import pytest

from ingest.models import Customer, Order, OrderLine
from segments.analysis.features import ALL_COLUMNS, customer_features
from segments.analysis.interests import category_counts
from segments.analysis.rfm import assign_rfm_segments, rfm_scores
from segments.models import (
    CustomerScore,
    Recommendation,
    Segment,
    SegmentationRun,
    SegmentKind,
    SegmentMembership,
)
from segments.services import db
from segments.services.runs import segment_rename
from tests.factories import ProductFactory, make_order
from tests.segments.helpers import run_refresh, run_rule_mining

pytestmark = pytest.mark.django_db


def _pandas_features() -> pd.DataFrame:
    as_of = db.newest_order_at()
    return customer_features(db.orders_frame(as_of=as_of), as_of=pd.Timestamp(as_of))


def test_sql_features_equal_the_pandas_reference_on_the_same_orders(small_shop):
    as_of = db.newest_order_at()

    sql = db.features_frame(as_of=as_of)[list(ALL_COLUMNS)]
    reference = _pandas_features()

    assert list(sql.index) == list(reference.index)
    pd.testing.assert_frame_equal(sql, reference[list(ALL_COLUMNS)], check_dtype=False, atol=1e-9)


def test_category_counts_from_the_read_lines_equal_the_sql_group_by(small_shop):
    c0, c3 = small_shop["customers"][0], small_shop["customers"][3]
    loose = ProductFactory(name="Loose item", category="")  # uncategorised: no term
    coffee = small_shop["customers"][0].orders.first().lines.first().product
    order = make_order(c0, db.newest_order_at(), [(loose, 1, "3.00"), (coffee, 2, "20.00")])
    make_order(c3, db.newest_order_at(), [(coffee, 1, "20.00"), (coffee, -1, "-20.00")])
    as_of = db.newest_order_at()

    ours = category_counts(db.basket_lines_frame(as_of=as_of), db.products_frame())
    sql = db.category_counts_frame(as_of=as_of)

    key = ["customer_id", "term"]
    pd.testing.assert_frame_equal(ours.sort_values(key).reset_index(drop=True),
                                  sql.sort_values(key).reset_index(drop=True), check_dtype=False)
    assert "" not in set(ours["term"]) and order.pk in set(db.basket_lines_frame(as_of=as_of)["order_id"])
    assert ours.loc[(ours["customer_id"] == c0.pk) & (ours["term"] == "Coffee"), "count"].item() == 9


def test_returns_and_refunds_exported_as_orders_of_their_own_are_not_purchases(small_shop):
    from datetime import timedelta
    from decimal import Decimal

    from tests.factories import CustomerFactory, OrderFactory

    # given c8 (one order) sent something back later, as an order of its own, and a
    # customer whose only row is a refund
    c8 = small_shop["customers"][8]
    before = db.features_frame(as_of=db.newest_order_at()).loc[c8.pk]
    OrderFactory(customer=c8, ordered_at=db.newest_order_at() - timedelta(days=2),
                 gross_total=Decimal(0), returned_total=Decimal("20.00"),
                 net_total=Decimal("-20.00"))
    refund_only = CustomerFactory(first_name="Refund")
    OrderFactory(customer=refund_only, ordered_at=db.newest_order_at() - timedelta(days=9),
                 gross_total=Decimal(0), refunded_total=Decimal("15.00"),
                 net_total=Decimal("-15.00"))

    features = db.features_frame(as_of=db.newest_order_at())

    # then the SQL agrees with the reference, c8 still has one purchase (dated by the
    # purchase) and 20.00 less spend, and the refund-only customer has none
    pd.testing.assert_frame_equal(features[list(ALL_COLUMNS)],
                                  _pandas_features()[list(ALL_COLUMNS)],
                                  check_dtype=False, atol=1e-9)
    assert features.loc[c8.pk, "frequency"] == 1
    assert features.loc[c8.pk, "recency_days"] == before["recency_days"]
    assert features.loc[c8.pk, "monetary"] == pytest.approx(before["monetary"] - 20)
    assert features.loc[refund_only.pk, "frequency"] == 0
    assert features.loc[refund_only.pk, "recency_days"] == pytest.approx(9)


def test_cancelled_orders_are_not_purchases_and_returns_lower_spend(small_shop):
    c5, c11 = small_shop["customers"][5], small_shop["customers"][11]

    features = db.features_frame(as_of=db.newest_order_at())

    assert features.loc[c11.pk, "frequency"] == 1  # the cancelled 5-coffee order is ignored
    assert features.loc[c11.pk, "recency_days"] > 200
    assert features.loc[c5.pk, "return_rate"] == pytest.approx(35 / (3 * 20 + 35))  # 3 coffees, 1 returned frother


def test_a_run_saves_scores_segments_and_memberships_for_every_customer(small_shop):
    run = run_refresh()

    customers = small_shop["customers"]
    scores = {s.customer_id: s for s in CustomerScore.objects.all()}
    expected = assign_rfm_segments(rfm_scores(_pandas_features()))
    assert run.status == "succeeded" and run.is_current
    assert set(scores) == {c.pk for c in customers}
    assert {cid: s.rfm_key for cid, s in scores.items()} == expected.to_dict()
    assert scores[customers[0].pk].rfm_key == "champions"
    assert scores[customers[11].pk].rfm_key == "lost"
    assert scores[customers[0].pk].r_score == 5 and scores[customers[11].pk].r_score == 1
    assert SegmentMembership.objects.filter(run=run).count() == 12
    rfm_segments = Segment.objects.filter(run=run, kind=SegmentKind.RFM)
    assert sum(s.size for s in rfm_segments) == 12
    assert sum(s.revenue_share for s in rfm_segments) == pytest.approx(1.0)
    clusters = Segment.objects.filter(run=run, kind=SegmentKind.CLUSTER)
    assert clusters.count() == run.k_chosen >= 2
    assert all(c.rule_text and c.name for c in clusters)
    assert {s.cluster_key for s in scores.values()} == {c.key for c in clusters}


def test_with_little_history_value_models_say_so_instead_of_guessing(small_shop):
    run = run_refresh()

    assert run.metrics["clv"]["enough_history"] is False
    assert "at least 30" in run.metrics["clv"]["reason"]
    assert CustomerScore.objects.filter(expected_value_12m__isnull=False).count() == 0


def test_running_twice_is_idempotent_and_keeps_cluster_identities(small_shop):
    first = run_refresh()
    keys_first = dict(CustomerScore.objects.values_list("customer_id", "cluster_key"))
    recs_first = Recommendation.objects.count()

    second = run_refresh()

    keys_second = dict(CustomerScore.objects.values_list("customer_id", "cluster_key"))
    assert keys_second == keys_first
    assert CustomerScore.objects.count() == 12
    assert Recommendation.objects.count() == recs_first > 0
    assert set(Recommendation.objects.values_list("run_id", flat=True)) == {second.pk}
    assert list(SegmentationRun.objects.filter(is_current=True)) == [second]
    first.refresh_from_db()
    assert not first.is_current
    moves = second.metrics["transitions"]["rfm"]
    assert sum(n for _a, _b, n in moves) == 12
    assert all(a == b for a, b, _n in moves)  # same data: nobody moved


def test_an_owner_chosen_k_is_used(small_shop):
    run = run_refresh(k=2)

    assert run.k_chosen == 2
    assert "You chose k=2" in run.k_reason
    assert run.silhouette_curve["silhouette"]  # the curve is still drawn to guide the choice


def test_owner_names_survive_later_runs(small_shop):
    run_refresh()
    segment_rename(kind="rfm", key="champions", name="Our VIPs")

    run_refresh()

    from segments.selectors import segment_display_name, segments_for
    assert segment_display_name("rfm", "champions") == "Our VIPs"
    assert any(s.display_name == "Our VIPs" for s in segments_for("rfm"))


def test_a_run_without_orders_succeeds_and_says_there_is_nothing(db):
    Customer.objects.create(key="a@example.com", email="a@example.com")

    run = run_refresh()

    assert run.message == "No orders yet: nothing to analyse."
    assert not run.is_current


def test_a_run_mines_rules_with_the_owners_overrides(small_shop):
    from profiler_site.core.jobs import execute_job
    from segments.services.refresh import segmentation_run_execute

    run = SegmentationRun.objects.create(
        baskets={"requested": {"min_support": 0.05, "min_confidence": 0.9, "max_len": 2}})
    execute_job(model=SegmentationRun, job_id=run.pk, task_id="t", work=segmentation_run_execute)
    run_rule_mining(run)
    run.refresh_from_db()

    used = run.baskets["all"]
    assert (used["min_confidence"], used["max_len"]) == (0.9, 2)
    assert used["min_support"] >= 0.05  # the order-count floor may raise it, never lower it
    assert run.baskets["requested"]["max_len"] == 2


def test_propensity_scores_are_kept_only_with_a_model_whose_evaluation_passed(small_shop):
    run = run_refresh()

    info = run.metrics["propensity"]
    scored = CustomerScore.objects.filter(propensity__isnull=False).count()
    if info["enough_history"]:
        assert scored == CustomerScore.objects.count()
    else:
        assert info["reason"] and scored == 0


def test_a_young_shop_gets_no_propensity_scores_its_model_could_not_be_checked_on(db):
    # given: every customer is younger than two horizons (no history to evaluate on),
    # yet half bought again in the last one (enough to train today's scores on)
    from datetime import UTC, datetime, timedelta

    from tests.factories import CustomerFactory

    newest = datetime(2026, 10, 1, 12, tzinfo=UTC)
    tea = ProductFactory(name="Green Tea", category="Tea")
    for i in range(10):
        customer = CustomerFactory(first_name=f"Y{i}")
        make_order(customer, newest - timedelta(days=150 - i), [(tea, 1, "8.00")])
        if i % 2 == 0:
            make_order(customer, newest - timedelta(days=i), [(tea, 2, "8.00")])

    run = run_refresh()

    assert run.metrics["propensity"]["enough_history"] is False
    assert run.metrics["propensity"]["reason"]
    assert not CustomerScore.objects.filter(propensity__isnull=False).exists()


def test_a_product_sold_only_on_unpriced_lines_has_unknown_revenue_not_zero(small_shop):
    """A file that gives only order totals leaves its lines unpriced: the products' revenue
    is unknown, and every page says so ("—"), rather than "$0" or a share made up."""
    from decimal import Decimal

    from segments.selectors import product_detail, segment_top_categories, segment_top_products
    from tests.factories import OrderFactory, OrderLineFactory

    c0 = small_shop["customers"][0]
    mystery = ProductFactory(name="Mystery Box", category="Gifts")
    order = OrderFactory(customer=c0, ordered_at=db.newest_order_at(),
                         gross_total=Decimal("50.00"), net_total=Decimal("50.00"))
    OrderLineFactory(order=order, product=mystery, quantity=1, unit_price=None, line_total=None)
    run = run_refresh(rules=False)

    key = CustomerScore.objects.get(customer=c0).rfm_key
    segment = Segment.objects.get(run=run, kind=SegmentKind.RFM, key=key)
    for stored in (segment, None):  # what the run stored, and the live query
        products = {p["name"]: p["revenue"] for p in
                    segment_top_products(SegmentKind.RFM, key, segment=stored)}
        categories = {c["category"]: c["revenue"] for c in
                      segment_top_categories(SegmentKind.RFM, key, segment=stored)}
        assert products["Mystery Box"] is None and products["Espresso Beans"] > 0
        assert categories["Gifts"] is None and categories["Coffee"] > 0
        assert list(categories)[-1] == "Gifts"  # by revenue: unknown sorts last, never first
    assert product_detail(mystery.pk).revenue is None


def test_a_run_leaves_fresh_planner_statistics_on_the_tables_the_pages_read(small_shop):
    """Pages after a first import and run are planned on real row counts, not on the empty
    tables' (autovacuum's analyze can come minutes later)."""
    from django.db import connection

    run_refresh(rules=False)

    with connection.cursor() as cursor:
        cursor.execute("""SELECT relname, reltuples FROM pg_class
                          WHERE relname IN ('ingest_order', 'ingest_orderline',
                                            'segments_customerscore')""")
        counted = dict(cursor.fetchall())
    assert counted == {"ingest_order": Order.objects.count(),
                       "ingest_orderline": OrderLine.objects.count(),
                       "segments_customerscore": CustomerScore.objects.count()}
