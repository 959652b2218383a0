"""A profile's header and order list show what the owner knows, not our internal keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from ingest.models import Order
from tests.factories import CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db

WHEN = datetime(1998, 5, 8, tzinfo=UTC)


@pytest.mark.parametrize(("key", "number"), [
    ("id:01018@1998-05-08T00:00:00+00:00", ""),
    ("jo@example.com@2024-01-02T10:00:00+01:00", ""),
    ("#1001", "#1001"),
    ("INV@2024", "INV@2024"),
    ("@2024-01-02T10:00:00+00:00", "@2024-01-02T10:00:00+00:00"),
])
def test_an_order_number_is_the_shops_own_id_never_a_made_up_key(key, number):
    assert Order(order_key=key).order_number == number


def test_a_customer_without_email_or_place_has_no_stray_separators_or_internal_keys(owner_client):
    customer = CustomerFactory(key="id:01018", email="", city="", country="", first_name="",
                               last_name="", shop_customer_id="01018", accepts_marketing=None)
    make_order(customer, WHEN, [(ProductFactory(), 1, "12.50")],
               key="id:01018@1998-05-08T00:00:00+00:00")

    page = owner_client.get(reverse("customer-detail", args=[customer.pk])).content.decode()

    facts = page.split('id="customer-facts">')[1].split("</p>")[0].strip()
    assert not facts.startswith("·") and "· ·" not in facts
    assert "marketing consent unknown" in facts
    assert "id:01018@" not in page
