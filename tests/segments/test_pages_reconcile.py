"""Every page shows the same figure for the same thing, and the file's own sums.

One shop, imported through the real upload in a shape the other tests do not have: a
German export (';', decimal commas, day-first dates) of a New York shop that sells in
euros. Real CDNOW purchases of 1997-98 with products, and customers at the edges: a
return of its own, a refund only, an order of 0.00, a cancelled order, only a cancelled
order, an order dated next year, two customers alike in every figure, an order late on
the last evening of a month, a return inside an order. The figures each page should
show are computed here from the file's rows with plain pandas.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from ingest.models import Customer, Product
from profiler_site.core.shop import shop_settings_update
from profiler_site.core.templatetags.money import format_money
from segments.models import Segment
from tests.segments.demo_loader import load_order_lines
from tests.segments.helpers import run_refresh

pytestmark = pytest.mark.django_db

CDNOW = Path(__file__).resolve().parents[1] / "data" / "CDNOW_master.txt"
ZONE = "America/New_York"
CURRENCY = "EUR"
PRODUCTS = {"POP": ("Pop album", "Pop"), "JAZZ": ("Jazz album", "Jazz"),
            "ROCK": ("Rock album", "Rock"), "CLASSIC": ("Classical album", "Classical")}
SKUS = list(PRODUCTS)


def _row(order: str, who: str, when: datetime, sku: str, quantity: int, total: float,
         status: str = "bezahlt") -> dict:
    return {"order": order, "who": who, "when": when, "sku": sku, "quantity": quantity,
            "total": round(total, 2), "status": status}


def _file_rows() -> pd.DataFrame:
    """The shop's rows: the file's own values, dates as the file writes them (local)."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    raw = raw[raw["customer_id"].astype(int) <= 40]
    rows = [_row(f"{r.customer_id}-{r.date}", f"cd{r.customer_id}",
                 datetime.strptime(r.date, "%Y%m%d") + timedelta(hours=10), SKUS[i % 4],
                 int(r.number_of_cds), float(r.dollar_value))
            for i, r in enumerate(raw.itertuples())]
    day = datetime(1998, 1, 1, 11)
    ahead = datetime.combine(timezone.localdate() + timedelta(days=300), day.time())
    rows += [
        _row("R1", "returner", day.replace(month=5, day=2), "POP", 2, 24.00),
        _row("R1", "returner", day.replace(month=5, day=2), "JAZZ", 1, 11.00),
        _row("R2", "returner", day.replace(month=5, day=20), "JAZZ", -1, -11.00),
        _row("Q1", "refundonly", day.replace(month=6, day=1), "ROCK", -1, -9.99),
        _row("Z1", "free", day.replace(month=6, day=2), "CLASSIC", 1, 0.00),
        _row("K1", "canceller", day.replace(month=3, day=3), "POP", 1, 12.00),
        _row("K2", "canceller", day.replace(month=6, day=10), "POP", 4, 48.00, "cancelled"),
        _row("X1", "cancelonly", day.replace(month=4, day=4), "ROCK", 1, 15.00, "cancelled"),
        _row("F1", "future", day.replace(month=2, day=2), "CLASSIC", 1, 14.00),
        _row("F2", "future", ahead, "CLASSIC", 3, 42.00),
        *(_row(f"T{n}{who}", who, day.replace(month=month, day=15), sku, 1, price)
          for who in ("tied1", "tied2")
          for n, (month, sku, price) in enumerate([(1, "JAZZ", 13.50), (4, "POP", 12.00)])),
        # 23:30 on 31 January in New York is 04:30 on 1 February in UTC
        _row("E1", "evening", day.replace(month=1, day=31, hour=23, minute=30), "ROCK", 1, 10),
        _row("E2", "evening", day.replace(month=3, day=31, hour=23, minute=30), "ROCK", 2, 20),
        _row("I1", "inline", day.replace(month=6, day=15), "POP", 2, 24.00),
        _row("I1", "inline", day.replace(month=6, day=15), "JAZZ", -1, -11.00),
    ]
    return pd.DataFrame(rows)


def _write(rows: pd.DataFrame, path: Path) -> Path:
    def amount(value: float) -> str:
        return f"{value:.2f}".replace(".", ",")

    out = pd.DataFrame({
        "Bestellnummer": rows["order"], "E-Mail": rows["who"] + "@example.de",
        "Bestelldatum": rows["when"].dt.strftime("%d.%m.%Y %H:%M"),
        "Artikelnummer": rows["sku"], "Artikel": rows["sku"].map(lambda s: PRODUCTS[s][0]),
        "Kategorie": rows["sku"].map(lambda s: PRODUCTS[s][1]), "Menge": rows["quantity"],
        "Betrag": rows["total"].map(amount), "Status": rows["status"],
    })
    out.to_csv(path, sep=";", index=False)
    return path


@dataclass(frozen=True, kw_only=True)
class Expected:
    """What the pages should say, computed from the file's rows."""

    orders: pd.DataFrame  # one row per order: who, when (local), net, purchase, counted, ...
    bought: pd.DataFrame  # per (who, product name): orders and units bought, not cancelled
    customers: pd.DataFrame  # per analysed customer: frequency, spend
    file_customers: int
    products: pd.DataFrame  # per SKU: orders, customers, revenue

    @property
    def counted(self) -> pd.DataFrame:
        return self.orders[self.orders["counted"]]


def _expected(rows: pd.DataFrame) -> Expected:
    rows = rows.assign(
        cancelled=rows["status"] == "cancelled",
        bought=rows["total"].where(rows["quantity"] > 0, 0.0),
    )
    orders = rows.groupby("order").agg(
        who=("who", "first"), when=("when", "first"), total=("total", "sum"),
        gross=("bought", "sum"), cancelled=("cancelled", "any"))
    now = timezone.now().astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
    orders["ahead"] = orders["when"] > now + timedelta(days=1)
    orders["net"] = orders["total"].where(~orders["cancelled"], 0.0)
    orders["counted"] = ~orders["cancelled"] & ~orders["ahead"]
    orders["purchase"] = ~orders["cancelled"] & (orders["gross"] > 0)
    counted = orders[orders["counted"]]
    customers = counted.groupby("who").agg(frequency=("purchase", "sum"), spend=("net", "sum"))
    sold = rows[(rows["quantity"] > 0) & rows["order"].isin(counted.index)]
    products = sold.groupby("sku").agg(orders=("order", "nunique"), customers=("who", "nunique"),
                                       revenue=("total", "sum"))
    kept = rows[(rows["quantity"] > 0) & ~rows["order"].map(orders["cancelled"])]
    bought = kept.assign(name=kept["sku"].map(lambda sku: PRODUCTS[sku][0])).groupby(
        ["who", "name"]).agg(orders=("order", "nunique"), units=("quantity", "sum"))
    return Expected(orders=orders, bought=bought, customers=customers,
                    file_customers=rows["who"].nunique(), products=products)


@pytest.fixture
def shop(tmp_path):
    shop_settings_update(name="Plattenladen", currency=CURRENCY, time_zone=ZONE,
                         sender_name="Plattenladen", sender_address="laden@example.de")
    rows = _file_rows()
    load_order_lines(_write(rows, tmp_path / "bestellungen.csv"))
    run_refresh(rules=False)
    cache.clear()
    return _expected(rows)


def money(value: float) -> str:
    return format_money(round(value, 2), CURRENCY, language="en")


def money_whole(value: float) -> str:
    return format_money(round(value, 2), CURRENCY, language="en", whole=True)


def _get(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def _words(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def _between(page: str, element_id: str, end: str = "</section>") -> str:
    """From after the element's opening tag to ``end``."""
    return page.split(f'id="{element_id}"', 1)[1].split(">", 1)[1].split(end, 1)[0]


def _kpi(page: str, name: str) -> str:
    return re.search(rf'data-kpi="{name}">([^<]*)<', page)[1]


def _labelled(page: str) -> dict[str, str]:
    return dict((label, value) for value, label in re.findall(
        r'<div class="value">([^<]*)</div><div class="label">([^<]*)</div>', page))


def _api(client, url: str) -> list[dict]:
    """Every result of a paginated API list, page after page."""
    results = []
    while url:
        answer = client.get(url).json()
        results += answer["results"]
        url = answer["next"]
    return results


def _customer(email_name: str) -> Customer:
    return Customer.objects.get(email=f"{email_name}@example.de")


def test_the_overview_segments_and_rfm_cells_add_up_to_the_files_totals(owner_client, shop):
    revenue = shop.counted["net"].sum()
    overview = _get(owner_client, reverse("overview"))

    assert _kpi(overview, "customers") == str(shop.file_customers)
    assert _kpi(overview, "orders") == str(int(shop.counted["purchase"].sum()))
    assert _kpi(overview, "revenue") == money_whole(revenue)
    assert "1 order is dated after today" in overview
    # revenue per month in the file's own months, new + returning = the month, all = total
    chart = json.loads(re.search(r'<script id="chart-revenue" type="application/json">(.*?)'
                                 r"</script>", overview, re.DOTALL)[1])
    new, returning = chart["data"]
    charted = {m: round(a + b, 2) for m, a, b in zip(new["x"], new["y"], returning["y"])}
    by_month = shop.counted.groupby(shop.counted["when"].dt.strftime("%Y-%m"))["net"].sum()
    assert charted == {m: round(v, 2) for m, v in by_month.items()}
    assert round(sum(charted.values()), 2) == round(revenue, 2)

    # the customers the file has and no segment counts are said, not silently dropped
    analysed = len(shop.customers)
    assert shop.file_customers - analysed == 1  # the customer with only a cancelled order
    assert "1 customer is in no segment" in _words(_between(overview, "not-in-segments", "</p>"))

    for kind in ("rfm", "cluster"):
        segments = _api(owner_client, f"/api/segments/?kind={kind}")
        listing = _get(owner_client, reverse("segments") + f"?kind={kind}")
        rows = re.findall(r'<tr data-segment="([^"]+)">.*?<td class="num">([\d,]+)<br>',
                          listing, re.DOTALL)
        # parts add up to the whole: customers, money to the cent, shares to 1
        assert {key: int(size.replace(",", "")) for key, size in rows} == {
            s["key"]: s["size"] for s in segments}
        assert sum(s["size"] for s in segments) == analysed
        assert round(sum(float(s["revenue"]) for s in segments), 2) == round(revenue, 2)
        assert sum(s["revenue_share"] for s in segments) == pytest.approx(1.0, abs=1e-9)
        # each segment's money is its members' money in the file
        for segment in segments:
            members = _api(owner_client, f"/api/segment-customers/?{kind}={segment['key']}")
            emails = [m["email"].split("@")[0] for m in members]
            assert len(members) == segment["size"]
            assert round(float(segment["revenue"]), 2) == round(
                shop.customers.loc[emails, "spend"].sum(), 2), segment["key"]

    cells = re.findall(r'<tr><td>(\d)</td><td>(\d)</td><td class="num"><a [^>]*>([\d,]+)</a></td>'
                       r'<td class="num">([^<]*)</td></tr>', _get(owner_client,
                                                                  reverse("segments-rfm")))
    scores = pd.DataFrame(_api(owner_client, "/api/segment-customers/"))
    scores["who"] = scores["email"].str.split("@").str[0]
    scores["spend"] = scores["who"].map(shop.customers["spend"])
    per_cell = scores.groupby(["r_score", "f_score"]).agg(n=("who", "size"), spend=("spend", "sum"))
    assert {(int(r), int(f)): (int(n), shown) for r, f, n, shown in cells} == {
        cell: (int(row.n), money_whole(row.spend)) for cell, row in per_cell.iterrows()}
    # a cell's link and a segment's filter list as many customers as they are said to hold
    for r, f, n, _shown in cells:
        listed = _words(_get(owner_client, reverse("customers") + f"?r={r}&f={f}"))
        assert re.search(rf"[ (]{n} in all", listed), (r, f)
    for segment in _api(owner_client, "/api/segments/?kind=rfm"):
        listed = _words(_get(owner_client, reverse("customers") + f"?rfm={segment['key']}"))
        assert re.search(rf"[ (]{segment['size']} in all", listed), segment["key"]


def test_each_customers_row_profile_and_data_export_show_the_files_figures_for_them(
        owner_client, shop):
    listed: dict[str, tuple[str, str]] = {}
    page = 1
    while True:
        listing = _get(owner_client, reverse("customers") + f"?sort=-monetary&page={page}")
        for email, orders, spend in re.findall(
                r'<span class="muted">([^<@]+)@example\.de</span></td>.*?'
                r'<td class="num">[^<]*</td><td class="num">(\d+)</td><td class="num">([^<]*)</td>',
                _between(listing, "customers", "</table>"), re.DOTALL):
            listed[email] = (orders, spend)
        if f"page={page + 1}" not in listing:
            break
        page += 1
    assert f"{shop.file_customers} in all" in _words(listing)
    assert listed == {who: (str(int(row.frequency)), money(row.spend))
                      for who, row in shop.customers.iterrows()}

    for who, mine in shop.orders.groupby("who"):
        customer = _customer(who)
        profile = _get(owner_client, reverse("customer-detail", args=[customer.pk]))
        if who in shop.customers.index:
            facts = _labelled(_between(profile, "segment"))
            assert (facts["Orders"], facts["Total spend"]) == listed[who], who
        # the timeline lists every order, and its sentence totals them all
        total = mine["net"].sum()
        purchases = int(mine["purchase"].sum())
        said = _words(_between(profile, "orders-total", "</p>"))
        assert said.startswith(f"{purchases} order{'' if purchases == 1 else 's'}, "
                               f"{money(total)} in all after returns."), (who, said)
        rows = re.findall(r'<td class="num">([^<]*)</td></tr>', _between(profile, "timeline"))
        assert sorted(rows) == sorted(money(v) for v in mine["net"]), who
        # what they bought: purchase lines of orders that were not cancelled
        table = re.findall(r'>([^<>]+)</a> <span class="muted">[^<]*</span></td>'
                           r'<td class="num">(\d+)</td><td class="num">(\d+)</td>',
                           _between(profile, "products"))
        assert {name: (int(n), int(units)) for name, n, units in table} == {
            name: (row.orders, row.units) for (_who, name), row in
            shop.bought[shop.bought.index.get_level_values("who") == who].iterrows()}, who
        # the archive the person gets holds the same orders and money
        archive = zipfile.ZipFile(io.BytesIO(b"".join(owner_client.get(
            reverse("customer-archive", args=[customer.pk])).streaming_content)))
        exported = list(csv.DictReader(io.StringIO(archive.read("orders.csv").decode())))
        assert len(exported) == len(mine), who
        assert round(sum(float(o["net_total"]) for o in exported), 2) == round(total, 2), who


def test_product_pages_and_segment_best_sellers_count_the_same_orders(owner_client, shop):
    segments = list(Segment.objects.filter(run__is_current=True, kind="rfm"))
    for sku, expected in shop.products.iterrows():
        product = Product.objects.get(sku=sku)
        page = _labelled(_get(owner_client, reverse("product-detail", args=[product.pk])))
        assert page == {"Orders": str(int(expected.orders)),
                        "Customers": str(int(expected.customers)),
                        "Revenue": money_whole(expected.revenue)}, sku
        in_segments = [p for s in segments for p in s.top_products if p["id"] == product.pk]
        assert sum(p["orders"] for p in in_segments) == expected.orders, sku
        assert round(sum(p["revenue"] for p in in_segments), 2) == round(expected.revenue, 2)
    for segment in segments:
        shown = _between(_get(owner_client, reverse("segment-detail", args=["rfm", segment.key])),
                         "members", "</table>")
        assert len(re.findall(r"<tr>\s*<td><a href=", shown)) == segment.size


def test_the_api_exports_and_campaign_audiences_count_what_the_pages_count(owner_client, shop):
    run = _api(owner_client, "/api/runs/")[0]
    overview = _get(owner_client, reverse("overview"))
    assert (run["customer_count"], run["order_count"]) == (
        len(shop.customers), int(shop.counted["purchase"].sum()))
    assert _kpi(overview, "orders") == str(run["order_count"])
    audience = owner_client.get("/api/campaigns/audience/?kind=all&key=all").json()
    assert audience["in_segment"] == shop.file_customers
    for segment in Segment.objects.filter(run__is_current=True, kind="rfm"):
        counted = owner_client.get(
            f"/api/campaigns/audience/?kind=rfm&key={segment.key}").json()["in_segment"]
        exported = list(csv.DictReader(io.StringIO(b"".join(owner_client.get(
            reverse("segment-export", args=["rfm", segment.key])).streaming_content).decode())))
        assert counted == len(exported) == segment.size, segment.key
        for row in exported:
            mine = shop.customers.loc[row["email"].split("@")[0]]
            assert (int(row["frequency"]), float(row["monetary"])) == (
                mine.frequency, round(mine.spend, 2)), row["email"]
