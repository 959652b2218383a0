import pytest

from ingest.models import Customer, Event
from tests.conftest import api_key_header

pytestmark = pytest.mark.django_db

BATCH = {"events": [
    {"customer": "Ann@Example.com", "type": "page_view", "time": "2024-05-01T10:00:00Z",
     "properties": {"path": "/tea"}},
    {"customer": "C-77", "type": "add_to_cart", "time": "2024-05-01T10:01:00+02:00",
     "properties": {"sku": "S1"}},
]}


def test_a_website_sends_a_batch_of_events_and_a_retry_stores_nothing_twice(client, owner):
    auth = api_key_header(owner)

    first = client.post("/api/events/", BATCH, content_type="application/json", **auth)
    retry = client.post("/api/events/", BATCH, content_type="application/json", **auth)

    assert first.status_code == 202 and first.json() == {"received": 2, "created": 2}
    assert retry.json()["created"] == 0
    assert Event.objects.count() == 2
    assert Customer.objects.filter(key="ann@example.com").exists()
    assert Customer.objects.filter(key="id:C-77", shop_customer_id="C-77").exists()


def test_events_need_a_token_and_a_valid_email(client, owner):
    anonymous = client.post("/api/events/", BATCH, content_type="application/json")
    auth = api_key_header(owner)
    bad = client.post("/api/events/", {"events": [{**BATCH["events"][0],
                                                  "customer": "ann@exa\r\nmple.com"}]},
                      content_type="application/json", **auth)

    assert anonymous.status_code == 401
    assert bad.status_code == 400 and not Event.objects.exists()
