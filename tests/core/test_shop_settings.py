"""The shop's name, currency, time zone and sender defaults, changed on Settings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from profiler_site.core.shop import shop_profile
from profiler_site.core.templatetags.money import format_money

pytestmark = pytest.mark.django_db

SHOP = {"name": "Chloé's Records", "currency": "EUR", "time_zone": "Europe/Berlin",
        "sender_name": "Chloé", "sender_address": "hello@records.example"}


def test_until_saved_the_environment_speaks_for_the_shop(settings):
    settings.SHOP_NAME, settings.SHOP_CURRENCY = "Env Shop", "gbp"

    profile = shop_profile()

    assert (profile.name, profile.currency, profile.time_zone) == ("Env Shop", "GBP", "UTC")


def test_saved_settings_reach_the_pages_the_emails_and_the_importer(owner_client):
    response = owner_client.post(reverse("shop-settings"), SHOP)

    assert response.status_code == 302
    page = owner_client.get(reverse("settings")).content.decode()
    assert 'value="Chloé&#x27;s Records"' in page
    assert '<option value="EUR" selected>' in page
    new_campaign = owner_client.get(reverse("campaign-new")).content.decode()
    assert 'value="hello@records.example"' in new_campaign and 'value="Chloé"' in new_campaign
    from campaigns import conf
    from ingest.models import ImportJob
    from ingest.services.imports import _read_options
    assert conf.shop_name() == "Chloé's Records"
    assert _read_options(ImportJob(options={})).timezone == "Europe/Berlin"


@pytest.mark.parametrize("field,value", [("currency", "XXQ"), ("time_zone", "Mars/Olympus"),
                                         ("sender_address", "not an address"),
                                         ("product_url_template", "shop.example/p/{sku}"),
                                         ("product_url_template", "https://shop.example/p/"),
                                         ("product_url_template", "https://shop.example/{id}/{sku}"),
                                         ("product_url_template", "javascript:alert({sku})")])
def test_a_wrong_value_is_refused_with_the_page_and_nothing_saved(owner_client, field, value):
    response = owner_client.post(reverse("shop-settings"), {**SHOP, field: value})

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert shop_profile().currency == "USD"


def test_pages_show_dates_in_the_shops_time_zone(owner_client):
    owner_client.post(reverse("shop-settings"), {**SHOP, "time_zone": "Asia/Shanghai"})
    late_utc = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)  # 8 Dec, 04:30 in Shanghai
    from profiler_site.core.models import JobStatus, WorkerCheckJob
    job = WorkerCheckJob.objects.create(status=JobStatus.SUCCEEDED, finished_at=late_utc)

    html = owner_client.get(reverse("job-progress", args=["core.workercheckjob", job.pk])).content.decode()

    assert "8 Dec 2026 04:30" in html


@pytest.mark.parametrize(("value", "currency", "language", "shown"), [
    ("1234.5", "USD", "en", "$1,234.50"),
    ("1234.5", "USD", "zh-hans", "US$1,234.50"),
    ("-0.004", "USD", "en", "$0.00"),
    ("0.125", "EUR", "en", "€0.13"),
    ("1234.5", "JPY", "en", "¥1,235"),
    ("-12", "GBP", "en", "-£12.00"),
])
def test_money_is_written_in_the_shops_currency_the_readers_way(value, currency, language, shown):
    assert format_money(Decimal(value), currency, language=language) == shown


def test_the_money_filter_follows_the_saved_currency(owner_client):
    owner_client.post(reverse("shop-settings"), {**SHOP, "currency": "CNY"})
    template = Template("{% load money %}{{ v|money }} · {{ v|money_whole }}")

    with translation.override("zh-hans"):
        chinese = template.render(Context({"v": Decimal("26573.456")}))
    with translation.override("en"):
        english = template.render(Context({"v": Decimal("26573.456")}))

    assert chinese == "¥26,573.46 · ¥26,573"
    assert english == "CN¥26,573.46 · CN¥26,573"


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "shown"), [
    (0.31, "<$1"), (0.0001, "<$1"), (0, "$0"), (0.5, "$1"), (1234.4, "$1,234"), (None, ""),
])
def test_an_estimate_never_rounds_a_positive_amount_to_nothing(settings, value, shown):
    from profiler_site.core.shop import shop_profile_forget
    from profiler_site.core.templatetags.money import money_estimate

    settings.SHOP_CURRENCY = "USD"
    shop_profile_forget()
    with translation.override("en"):
        assert money_estimate(value) == shown


def test_a_product_page_address_is_saved_explained_when_wrong_and_kept_by_an_older_form(
    owner_client,
):
    from profiler_site.core.services import user_language_set

    page = owner_client.post(reverse("shop-settings"),
                             {**SHOP, "product_url_template": "https://shop.example/p/"})
    assert "Put {sku} where the product&#x27;s SKU goes." in page.content.decode()
    user_language_set(user=page.wsgi_request.user, language="zh-hans")
    page = owner_client.post(reverse("shop-settings"),
                             {**SHOP, "product_url_template": "ftp://shop.example/{sku}"})
    assert "请输入以 http:// 或 https:// 开头的网址。" in page.content.decode()

    owner_client.post(reverse("shop-settings"),
                      {**SHOP, "product_url_template": " https://shop.example/products/{sku} "})
    assert shop_profile().product_url_template == "https://shop.example/products/{sku}"
    owner_client.post(reverse("shop-settings"), SHOP)  # a page from before the field
    assert shop_profile().product_url_template == "https://shop.example/products/{sku}"
    owner_client.post(reverse("shop-settings"), {**SHOP, "product_url_template": ""})
    assert shop_profile().product_url_template == ""


def test_a_product_page_is_its_sku_in_the_shops_address_and_a_product_without_sku_has_none():
    from profiler_site.core.shop import product_page_url

    template = "https://shop.example/products/{sku}?ref=email"
    assert product_page_url(template, "MUG-1") == "https://shop.example/products/MUG-1?ref=email"
    # Escaped: a SKU is data, never part of the address's syntax.
    assert product_page_url(template, "A/B #2") == \
        "https://shop.example/products/A%2FB%20%232?ref=email"
    assert product_page_url(template, "name:linen tea towel") is None  # the file gave no SKU
    assert product_page_url("", "MUG-1") is None
