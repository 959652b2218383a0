"""Edge customers' profiles (and the overview) in a real Chromium, in both languages: a
free order, an order dated in the future, a file without product names."""

from datetime import date, timedelta

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from ingest.models import Customer
from profiler_site.core.services import user_language_set
from segments.models import CustomerScore
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import log_in_as_owner, run_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAST = date(2026, 10, 1)


def _line(order: str, who: str, day: date, *, quantity: int = 1, price: str = "20.00",
          product: str = "Espresso Beans") -> dict:
    return {"order_id": order, "email": f"{who}@example.com", "first_name": who.title(),
            "ordered_at": f"{day} 12:00:00", "sku": "BEANS" if product else "",
            "product_name": product, "quantity": quantity, "unit_price": price}


def test_edge_customers_read_true_in_both_languages(live_server, page, screenshot):
    ahead = (timezone.now() + timedelta(days=400)).date()
    lines = [_line(f"F{k}-{i}", f"regular{k}", LAST - timedelta(days=37 * k + 20 * i))
             for k in range(8) for i in range(1 + k % 4)]
    lines += [_line("Z1", "free", LAST - timedelta(days=50), price="0.00"),
              _line("N1", "free", LAST - timedelta(days=70), product=""),
              _line("X1", "free", ahead)]
    load_order_lines(pd.DataFrame(lines))
    run_refresh(rules=False)
    log_in_as_owner(page, live_server)
    free = Customer.objects.get(email="free@example.com")

    page.goto(f"{live_server.url}/customers/{free.pk}/")
    expect(page.locator("#rfm-why")).to_contain_text("have bought once")
    expect(page.locator("#orders-total")).to_contain_text("The list also holds 1 order of $0.00.")
    expect(page.locator("#orders-total")).to_contain_text(
        "1 order is dated after today: the analysis leaves it out until its date.")
    expect(page.locator("#no-products")).to_contain_text("1 item bought, products unknown.")
    expect(page.locator("#days-counted-to")).to_contain_text("Days are counted to 1 Oct 2026")
    screenshot("profile-en")
    page.goto(f"{live_server.url}/")
    expect(page.locator("#dated-ahead")).to_contain_text(
        "1 order is dated after today: the analysis and these figures leave it out")
    screenshot("overview-en")
    key = CustomerScore.objects.get(customer=free).rfm_key
    page.goto(f"{live_server.url}/segments/rfm/{key}/")
    expect(page.locator("#members")).to_contain_text("Free")
    screenshot("segment-en")

    user_language_set(user=get_user_model().objects.get(username="owner"), language="zh-hans")
    page.goto(f"{live_server.url}/customers/{free.pk}/")
    expect(page.locator("#orders-total")).to_contain_text("列表中另有 1 笔金额为 US$0.00 的订单。")
    expect(page.locator("#no-products")).to_contain_text("共购买 1 件，商品不详。")
    expect(page.locator("#days-counted-to")).to_contain_text("天数计算截至 2026年10月1日")
    screenshot("profile-zh")
