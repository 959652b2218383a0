from datetime import UTC, datetime

import pytest
from django.urls import reverse

from segments.models import Recommendation, SegmentationRun
from segments.selectors import product_prices
from tests.campaigns.conftest import html_part, make_campaign, run_send_inline, text_part
from tests.factories import CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def _sold(product, when: datetime, price: str, *, quantity: int = 1, customer=None):
    return make_order(customer or CustomerFactory(), when, [(product, quantity, price)])


def test_a_products_price_is_what_its_newest_sale_cost():
    # given: a price rise, then a later return, a later cancelled order and a free sample
    blend = ProductFactory(name="House blend")
    _sold(blend, datetime(2025, 1, 5, tzinfo=UTC), "5.00")
    _sold(blend, datetime(2025, 6, 5, tzinfo=UTC), "6.50", quantity=2)
    _sold(blend, datetime(2025, 7, 1, tzinfo=UTC), "9.99", quantity=-1)
    cancelled = _sold(blend, datetime(2025, 8, 1, tzinfo=UTC), "99.00")
    cancelled.is_cancelled = True
    cancelled.save(update_fields=["is_cancelled"])
    _sold(blend, datetime(2025, 9, 1, tzinfo=UTC), "0.00")
    never_sold = ProductFactory(name="New mug")

    prices = product_prices([blend.pk, never_sold.pk])

    assert str(prices[blend.pk]) == "6.50"
    assert never_sold.pk not in prices


def test_prices_are_read_once_per_analysis_run_and_the_next_run_brings_new_ones():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.segments.helpers import run_refresh

    blend, never_sold = ProductFactory(name="House blend"), ProductFactory(name="New mug")
    _sold(blend, datetime(2025, 1, 5, tzinfo=UTC), "5.00")
    run_refresh(rules=False)
    assert product_prices([blend.pk, never_sold.pk]) == {blend.pk: 5}

    _sold(blend, datetime(2025, 2, 5, tzinfo=UTC), "6.00")  # imported, not yet analysed
    with CaptureQueriesContext(connection) as queries:
        kept = product_prices([blend.pk, never_sold.pk])
    assert kept == {blend.pk: 5}
    assert not any("ingest_orderline" in q["sql"] for q in queries.captured_queries)

    run_refresh(rules=False)
    assert product_prices([blend.pk, never_sold.pk]) == {blend.pk: 6}


def test_no_products_ask_for_no_prices():
    assert product_prices([]) == {}


def test_the_sent_email_and_a_chinese_owners_preview_show_the_same_price(smtp_server, settings, client,
                                                                        owner):
    # given: a euro shop, a customer with one recommended product sold at 12.50
    settings.SHOP_CURRENCY = "EUR"
    customer = CustomerFactory(first_name="Mei", email="mei@example.com")
    blend = ProductFactory(name="House blend")
    _sold(blend, datetime(2025, 6, 5, tzinfo=UTC), "12.50", customer=customer)
    run = SegmentationRun.objects.create(is_current=True, status="succeeded")
    Recommendation.objects.create(run=run, customer=customer, product=blend, rank=1, score=1.0,
                                  source="rules")
    body = "<p>Picked for you:</p>{{ recommended_products }}"
    campaign = make_campaign(html_body=body, holdout_share=0.0, audience_kind="all", audience_key="all")
    client.force_login(owner)

    # when: the owner previews in Chinese, then the email is sent
    preview = client.post(reverse("campaign-preview"), {
        "subject": "Hi", "html_body": body, "from_name": "Bean Shop", "audience": "all:all",
    }, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    run_send_inline(campaign)

    # then: the same price, in the shop's currency, in every part
    (sent,) = smtp_server.messages
    assert "<li>House blend — €12.50</li>" in html_part(sent)
    assert "- House blend — €12.50" in text_part(sent)
    assert "House blend — €12.50" in preview


def test_the_merge_tag_list_says_the_products_come_with_prices(owner_client):
    page = owner_client.get(reverse("campaign-new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "最多三件该客户可能感兴趣的商品，附价格" in page


def test_recommended_products_link_to_their_pages_when_the_shop_has_a_product_address(
    smtp_server, settings
):
    from profiler_site.core.shop import shop_profile, shop_settings_update

    shop = shop_profile()
    shop_settings_update(name="Bean Shop", currency="EUR", time_zone=shop.time_zone,
                         sender_name="Bean Shop", sender_address="shop@example.com",
                         product_url_template="https://beans.example/p/{sku}")
    customer = CustomerFactory(first_name="Mei", email="mei@example.com")
    blend = ProductFactory(name="House blend", sku="HB/250")
    towel = ProductFactory(name="Linen towel", sku="name:linen towel")  # no SKU in the file
    _sold(blend, datetime(2025, 6, 5, tzinfo=UTC), "12.50", customer=customer)
    run = SegmentationRun.objects.create(is_current=True, status="succeeded")
    for rank, product in enumerate((blend, towel), start=1):
        Recommendation.objects.create(run=run, customer=customer, product=product, rank=rank,
                                      score=1.0, source="rules")
    campaign = make_campaign(html_body="<p>Picked for you:</p>{{ recommended_products }}",
                             holdout_share=0.0, audience_kind="all", audience_key="all")

    run_send_inline(campaign)

    (sent,) = smtp_server.messages
    html = html_part(sent)
    # The product's link goes through click tracking like every link of the email.
    link = html.split("<li>", 1)[1].split('"')[1]
    assert "/t/c/" in link and ">House blend</a> — €12.50</li>" in html
    assert "<li>Linen towel</li>" in html  # no page to link to, no price known
    assert "- House blend (https://beans.example/p/HB%2F250) — €12.50" in text_part(sent)
