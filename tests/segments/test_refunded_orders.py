"""A fully refunded order reads the same downstream whether or not its file gave the amount
paid back: in the history, worth 0, and no purchase for recency, frequency or the profile."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.models import Customer
from segments.selectors import customer_profile
from segments.services.db import features_frame
from tests.ingest.helpers_db import import_bytes

pytestmark = pytest.mark.django_db

# Shopify: the refunded amount is what went back, shipping (4.90) included.
WITH_AMOUNT = (
    b"Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem price,Lineitem sku,"
    b"Shipping,Total,Refunded Amount\n"
    b"#1,ann@example.com,paid,2024-03-01 10:00:00 +0000,1,30.00,S1,4.90,34.90,0.00\n"
    b"#2,ann@example.com,refunded,2024-05-01 10:00:00 +0000,2,10.00,S2,4.90,24.90,24.90\n"
)
# BigCommerce: one row per order and no refunded amount.
WITHOUT_AMOUNT = (
    b"Order ID,Customer Email,Order Date,Order Status,Order Total (inc tax)\n"
    b"101,bob@example.com,2024-03-01,Completed,30.00\n"
    b"102,bob@example.com,2024-05-01,Refunded,20.00\n"
)


def test_a_refunded_order_is_no_purchase_whether_or_not_its_file_gave_the_amount():
    for content in (WITH_AMOUNT, WITHOUT_AMOUNT):
        assert import_bytes(content).rows_rejected == 0
    features = features_frame(as_of=datetime(2024, 6, 1, tzinfo=UTC))

    seen = {}
    for key in ("ann@example.com", "bob@example.com"):
        customer = Customer.objects.get(key=key)
        profile = customer_profile(customer.pk)
        row = features.loc[customer.pk]
        seen[key] = (profile.order_count, profile.purchase_count, profile.other_count,
                     profile.net_total, int(row["frequency"]), round(row["recency_days"]),
                     row["monetary"])

    # Two orders listed, one purchase (in March: 92 days before June), worth 30.00.
    assert seen["ann@example.com"] == seen["bob@example.com"] == (
        2, 1, 1, Decimal("30.00"), 1, 92, 30.0)


@pytest.mark.django_db(transaction=True)
def test_the_profile_calls_an_order_refunded_when_the_file_says_how_much_went_back(
        owner_client):
    import_bytes(WITH_AMOUNT)
    import_bytes(WITHOUT_AMOUNT)
    ann, bob = (Customer.objects.get(key=k) for k in ("ann@example.com", "bob@example.com"))

    ann_page = owner_client.get(f"/customers/{ann.pk}/").content.decode()
    bob_page = owner_client.get(f"/customers/{bob.pk}/").content.decode()

    assert '#2 <span class="badge">refunded</span>' in ann_page
    # Its file says only "Refunded", no amount: nothing tells it from a cancellation.
    assert '102 <span class="badge">cancelled</span>' in bob_page
