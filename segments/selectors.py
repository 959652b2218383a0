"""Reads of the segments app, for pages, the API and the campaigns app.

Everything reads the *current* run (the last one that finished); nothing here writes.
The first block is the contract the campaigns app relies on; keep its signatures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.expressions import OrderBy, RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from ingest.models import Customer, Order, OrderLine, Product
from profiler_site.core.models import JobStatus
from profiler_site.core.shop import shop_profile
from segments.analysis.clv import MODEL_NAMES
from segments.analysis.rfm import RFM_SEGMENTS
from segments.computed_text import rule_sentence
from segments.labels import translated_name
from segments.models import (
    BasketRule,
    CustomerScore,
    PlacedBy,
    Recommendation,
    RuleMiningJob,
    Segment,
    SegmentationRun,
    SegmentKind,
    SegmentLabel,
)
from segments.search_patterns import search_patterns
from segments.services.db import counted_until

PROPENSITY_AUDIENCES: dict[str, tuple[float, str]] = {
    # key -> (minimum share of customers with a strictly lower chance, name)
    "top10": (90.0, "Top 10% most likely to buy"),
    "top20": (80.0, "Top 20% most likely to buy"),
}
AUDIENCE_KINDS = ("all", "rfm", "cluster", "propensity")


@dataclass(frozen=True, kw_only=True, slots=True)
class AudienceOption:
    kind: str  # 'all', 'rfm', 'cluster' or 'propensity'
    key: str
    name: str
    size: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RecommendedProduct:
    product_id: int
    name: str
    sku: str
    score: float


# ------------------------------------------------------------------ runs and names


def _runs() -> QuerySet[SegmentationRun]:
    # page_data holds a 20k-point scatter (about a megabyte of JSON): a page reads the
    # one key it draws through _page_data instead of decoding all of it per run row.
    return SegmentationRun.objects.defer("page_data")


def current_run() -> SegmentationRun | None:
    return _runs().filter(is_current=True).first()


def days_counted_to(as_of: datetime | None, *, today: date | None = None) -> date | None:
    """The day a run counted "days since last purchase" to (its newest order), when that
    is not today in the shop's time zone; None when it is, or there is no run.

    The pages then say "18 days before 31 Oct 2026" where "18 days ago" would be untrue.
    """
    if as_of is None:
        return None
    zone = ZoneInfo(shop_profile().time_zone)
    counted_to = as_of.astimezone(zone).date()
    today = today or timezone.now().astimezone(zone).date()
    return counted_to if counted_to < today else None


def latest_run() -> SegmentationRun | None:
    """The newest run whatever its status (for the progress box)."""
    return _runs().order_by("-created_at", "-pk").first()


def rule_mining_for(run: SegmentationRun | None) -> RuleMiningJob | None:
    """The rules job of ``run`` (None for runs that mined their rules themselves)."""
    if run is None:
        return None
    return RuleMiningJob.objects.filter(run_id=run.pk).first()


def rules_run(current: SegmentationRun | None = None) -> SegmentationRun | None:
    """The run whose basket rules pages show: the current run once its rules are mined,
    until then the newest earlier run whose rules are (None if there is none)."""
    current = current or current_run()
    if current is None:
        return None
    # Older runs mined their rules themselves (no job row); a job that skipped a run a
    # newer one replaced succeeded without rules, hence the summary's "all" key too.
    mined = Q(baskets__has_key="all") & (
        Q(rule_mining__isnull=True) | Q(rule_mining__status=JobStatus.SUCCEEDED))
    # The current run is "running" for a moment after its save commits; earlier runs
    # count only if they succeeded (a failed run's rows were rolled back).
    finished = Q(pk=current.pk) | Q(status=JobStatus.SUCCEEDED)
    return (_runs().filter(mined, finished, pk__lte=current.pk, as_of__isnull=False)
            .order_by("-pk").first())


def run_history(limit: int = 20) -> list[SegmentationRun]:
    return list(_runs().order_by("-created_at", "-pk")[:limit])


def cluster_name_claims(run: SegmentationRun | None = None) -> dict[str, list[dict]]:
    """{cluster key: what its generated name claims (clustering.NameClaim as dicts)}, for
    clusters the owner has not renamed: a name the owner wrote claims nothing."""
    run = run or current_run()
    if run is None:
        return {}
    renamed = set(SegmentLabel.objects.filter(kind=SegmentKind.CLUSTER).values_list("key", flat=True))
    return {key: claims for key, claims in Segment.objects.filter(run=run, kind=SegmentKind.CLUSTER)
            .values_list("key", "name_claims") if key not in renamed}


def _labels() -> dict[tuple[str, str], str]:
    return {(lbl.kind, lbl.key): lbl.name for lbl in SegmentLabel.objects.all()}


def _default_name(kind: str, key: str, run: SegmentationRun | None = None) -> str:
    if kind == SegmentKind.RFM and key in RFM_SEGMENTS:
        return RFM_SEGMENTS[key].name
    if kind == SegmentKind.CLUSTER:
        run = run or current_run()
        name = (
            Segment.objects.filter(run=run, kind=kind, key=key).values_list("name", flat=True).first()
            if run
            else None
        )
        return name or key.replace("cluster-", "Cluster ")
    if kind == "propensity" and key in PROPENSITY_AUDIENCES:
        return PROPENSITY_AUDIENCES[key][1]
    if kind == "all":
        return "All customers"
    return key


def segment_display_name(kind: str, key: str) -> str:
    """The owner's name for the segment if they renamed it, else the computed one."""
    label = SegmentLabel.objects.filter(kind=kind, key=key).values_list("name", flat=True).first()
    return label or translated_name(_default_name(kind, key))


def segments_for(kind: str, run: SegmentationRun | None = None) -> list[Segment]:
    """Segments of one kind in the run, biggest revenue first, with ``display_name`` set."""
    run = run or current_run()
    if run is None:
        return []
    labels = _labels()
    segments = list(Segment.objects.filter(run=run, kind=kind).order_by("-revenue", "key"))
    for segment in segments:
        segment.display_name = labels.get((kind, segment.key)) or translated_name(segment.name)
        segment.renamed = (kind, segment.key) in labels
    return segments


def segment_names(run: SegmentationRun | None = None) -> dict[tuple[str, str], str]:
    """(kind, key) -> display name for every segment of the run."""
    run = run or current_run()
    names: dict[tuple[str, str], str] = {}
    if run is not None:
        names = {(k, key): translated_name(n)
                 for k, key, n in Segment.objects.filter(run=run).values_list("kind", "key", "name")}
    names.update(_labels())
    return names


# ------------------------------------------------------------------ for campaigns


def audience_options() -> list[AudienceOption]:
    """Every audience the owner can email, with its size, from the current run.

    A size counts whom the audience holds now (_audience_scores): also the customers
    placed in a segment since the run, whom its own size leaves out until the next one.
    """
    options = [AudienceOption(kind="all", key="all", name=translated_name("All customers"),
                              size=Customer.objects.count())]
    run = current_run()
    if run is None:
        return options
    for kind, field in ((SegmentKind.RFM, "rfm_key"), (SegmentKind.CLUSTER, "cluster_key")):
        held = dict(CustomerScore.objects.order_by().values(field).annotate(n=Count("pk"))
                    .values_list(field, "n"))
        options += [
            AudienceOption(kind=kind, key=s.key, name=s.display_name, size=held.get(s.key, 0))
            for s in segments_for(kind, run)
        ]
    if CustomerScore.objects.filter(propensity__isnull=False).exists():
        for key, (minimum, name) in PROPENSITY_AUDIENCES.items():
            size = CustomerScore.objects.filter(propensity_percentile__gte=minimum).count()
            options.append(AudienceOption(kind="propensity", key=key, name=translated_name(name),
                                          size=size))
    return options


def _audience_scores(kind: str, key: str) -> QuerySet[CustomerScore]:
    if kind == SegmentKind.RFM:
        return CustomerScore.objects.filter(rfm_key=key)
    if kind == SegmentKind.CLUSTER:
        return CustomerScore.objects.filter(cluster_key=key)
    if kind == "propensity":
        if key not in PROPENSITY_AUDIENCES:
            raise ValueError(f"unknown propensity audience {key!r}")
        return CustomerScore.objects.filter(
            propensity_percentile__gte=PROPENSITY_AUDIENCES[key][0]
        )
    raise ValueError(f"unknown audience kind {kind!r}")


def audience_customer_ids(*, kind: str, key: str) -> list[int]:
    """ingest Customer ids in the audience (current run), ascending."""
    if kind == "all":
        return list(Customer.objects.order_by("id").values_list("id", flat=True))
    return list(_audience_scores(kind, key).order_by("customer_id").values_list("customer_id", flat=True))


def customer_segment_keys(customer_ids: list[int]) -> dict[int, dict]:
    """{customer_id: {'rfm', 'rfm_name', 'cluster', 'cluster_name'}} for scored customers."""
    names = segment_names()
    rows = CustomerScore.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "rfm_key", "cluster_key"
    )
    return {
        cid: {
            "rfm": rfm,
            "rfm_name": names.get((SegmentKind.RFM, rfm), _default_name(SegmentKind.RFM, rfm)),
            "cluster": cluster,
            "cluster_name": names.get((SegmentKind.CLUSTER, cluster), cluster),
        }
        for cid, rfm, cluster in rows
    }


def customer_recommendations(
    customer_ids: list[int], *, limit: int = 3
) -> dict[int, list[RecommendedProduct]]:
    """Best ``limit`` recommended products per customer (customers without any are absent)."""
    result: dict[int, list[RecommendedProduct]] = defaultdict(list)
    rows = (
        Recommendation.objects.filter(customer_id__in=customer_ids, rank__lte=limit)
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product_id", "product__name", "product__sku", "score")
    )
    for cid, pid, name, sku, score in rows:
        result[cid].append(RecommendedProduct(product_id=pid, name=name or sku, sku=sku, score=score))
    return dict(result)


# Products never sold are cached as this (the cache cannot tell None from a miss).
_NO_PRICE = "none"


def product_prices(product_ids: list[int]) -> dict[int, Decimal]:
    """Each product's price as the shop charges it: the unit price of its newest sale
    (not a return, not a cancelled order, not a free line). Products never sold are
    absent. The product table has no price of its own.

    Finding the newest sale reads every line of the product (the order date lives on the
    order), hundreds of milliseconds for a best seller at a million lines, and every
    campaign preview asks. So each price is kept for as long as the current analysis
    run is current: the run after an import brings the new prices.
    """
    ids = sorted({int(pid) for pid in product_ids})
    if not ids:
        return {}
    run = SegmentationRun.objects.filter(is_current=True).values_list("pk", "finished_at").first()
    if run is None:
        return _newest_sale_prices(ids)
    version = f"{run[0]}:{run[1].timestamp() if run[1] else ''}"
    keys = {pid: f"segments:product-price:{version}:{pid}" for pid in ids}
    kept = cache.get_many(list(keys.values()))
    missing = [pid for pid in ids if keys[pid] not in kept]
    if missing:
        found = _newest_sale_prices(missing)
        fresh = {keys[pid]: found.get(pid, _NO_PRICE) for pid in missing}
        cache.set_many(fresh, timeout=24 * 3600)
        kept.update(fresh)
    return {pid: Decimal(kept[keys[pid]]) for pid in ids if kept[keys[pid]] != _NO_PRICE}


def _newest_sale_prices(ids: list[int]) -> dict[int, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT ON (l.product_id) l.product_id, l.unit_price
               FROM ingest_orderline l JOIN ingest_order o ON o.id = l.order_id
               WHERE l.product_id = ANY(%s) AND NOT l.is_return AND NOT o.is_cancelled
                 AND l.unit_price > 0
               ORDER BY l.product_id, o.ordered_at DESC, o.id DESC""",
            [ids],
        )
        return {int(pid): price for pid, price in cursor.fetchall()}


# ------------------------------------------------------------------ overview


@dataclass(frozen=True, kw_only=True, slots=True)
class OverviewKpis:
    customers: int
    revenue: float
    orders: int  # purchases: not returns, refunds or orders of 0.00 (revenue nets them)
    active_customers: int  # bought in the last 90 days before the newest order
    repeat_rate: float  # share of buyers with 2+ purchases
    newest_order_at: datetime | None
    # Orders dated after the newest counted one (in the future): left out of the figures.
    dated_ahead: int = 0
    # Customers with no order the analysis counts (every one cancelled or dated ahead, or
    # none): counted in `customers`, in no segment.
    not_analysed: int = 0


def _page_data(run: SegmentationRun | None, name: str) -> Any:
    """What the run precomputed for a page (None on runs that predate page_data).

    Only that key leaves the database (one small query), whatever else the run stored.
    """
    if run is None:
        return None
    return (
        SegmentationRun.objects.filter(pk=run.pk)
        .values_list(f"page_data__{name}", flat=True)
        .first()
    )


def overview_kpis(run: SegmentationRun | None = None) -> OverviewKpis:
    """Shop totals; from ``run`` when it stored them, else computed now."""
    stored = _page_data(run, "kpis")
    if stored is not None:
        newest = stored["newest_order_at"]
        return OverviewKpis(**{**stored, "newest_order_at": datetime.fromisoformat(newest)
                               if newest else None})
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH a AS (SELECT customer_id, ordered_at, net_total, gross_total
                          FROM ingest_order WHERE NOT is_cancelled),
                    newest AS (SELECT COALESCE(MAX(ordered_at) FILTER (WHERE ordered_at <= %s),
                                               MAX(ordered_at)) AS at FROM a),
                    o AS (SELECT a.* FROM a, newest WHERE a.ordered_at <= newest.at),
                    per AS (SELECT customer_id, COUNT(*) AS n, MAX(ordered_at) AS last FROM o
                            WHERE gross_total > 0 GROUP BY customer_id)
               SELECT (SELECT COUNT(*) FROM ingest_customer),
                      (SELECT COUNT(*) FROM o WHERE gross_total > 0),
                      (SELECT COALESCE(SUM(net_total), 0) FROM o),
                      (SELECT COUNT(*) FROM per, newest WHERE per.last > newest.at - interval '90 days'),
                      (SELECT COUNT(*) FILTER (WHERE n > 1)::float8 / GREATEST(COUNT(*), 1) FROM per),
                      (SELECT at FROM newest),
                      (SELECT COUNT(*) FROM a, newest WHERE a.ordered_at > newest.at),
                      (SELECT COUNT(DISTINCT customer_id) FROM o)""",
            [counted_until()],
        )
        customers, orders, revenue, active, repeat, newest, ahead, analysed = cursor.fetchone()
    return OverviewKpis(customers=customers, orders=orders, revenue=float(revenue),
                        active_customers=active, repeat_rate=float(repeat), newest_order_at=newest,
                        dated_ahead=ahead, not_analysed=customers - analysed)


def monthly_revenue(run: SegmentationRun | None = None) -> list[dict[str, Any]]:
    """Per month in the shop's time zone: revenue, orders (purchases), and revenue from
    new vs returning customers."""
    stored = _page_data(run, "monthly_revenue")
    if stored is not None:
        return stored
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH o AS (SELECT customer_id, ordered_at, net_total, gross_total,
                                 MIN(ordered_at) OVER (PARTITION BY customer_id) AS first_at
                          FROM ingest_order WHERE NOT is_cancelled)
               SELECT date_trunc('month', ordered_at AT TIME ZONE %s) AS month,
                      SUM(net_total)::float8, COUNT(*) FILTER (WHERE gross_total > 0),
                      COALESCE(SUM(net_total) FILTER (WHERE ordered_at = first_at), 0)::float8,
                      COUNT(DISTINCT customer_id) FILTER (WHERE ordered_at = first_at),
                      COUNT(DISTINCT customer_id) FILTER (WHERE ordered_at > first_at)
               FROM o GROUP BY 1 ORDER BY 1""",
            [shop_profile().time_zone],
        )
        return [
            {"month": m.date().isoformat()[:7], "revenue": rev, "orders": n, "new_revenue": new_rev,
             "returning_revenue": rev - new_rev, "new_customers": new_c, "returning_customers": ret_c}
            for m, rev, n, new_rev, new_c, ret_c in cursor.fetchall()
        ]


# ------------------------------------------------------------------ customers

CUSTOMER_SORTS = {
    "name": ("last_name", "first_name"),
    "recency": ("score__recency_days",),
    "frequency": ("score__frequency",),
    "monetary": ("score__monetary",),
    "propensity": ("score__propensity",),
    "clv": ("score__expected_value_12m",),
    "p_alive": ("score__p_alive",),
}


# The search reads every customer (no trigram index in every PostgreSQL build), so
# the per-row test is made cheap: UPPER in PostgreSQL's own Unicode case mapping
# (the pg_c_utf8 collation, 17+), a LIKE on the email, and on the names a regular
# expression that ignores accents (segments/search_patterns.py says why not SQL).
SEARCH_SQL = """(UPPER("ingest_customer"."email"::text COLLATE pg_c_utf8) LIKE %s::text
                 OR UPPER(("ingest_customer"."first_name"::text || ' '
                           || "ingest_customer"."last_name"::text) COLLATE pg_c_utf8) ~ %s::text
                 OR UPPER("ingest_customer"."shop_customer_id"::text COLLATE pg_c_utf8)
                    = UPPER(%s::text COLLATE pg_c_utf8))"""


def _search_filter(search: str) -> Q:
    """Name or email contains ``search``, or the shop's customer id is it, ignoring case
    and accents."""
    patterns = search_patterns(search)
    return Q(RawSQL(SEARCH_SQL, [patterns.like, patterns.regex, search],
                    output_field=BooleanField()))


def _nulls_last(name: str, descending: bool) -> OrderBy:
    return F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)


class ScoredFirst:
    """All customers sorted by a score column, for Paginator: what
    ``Customer ⟕ CustomerScore ORDER BY score NULLS LAST, id`` lists, read in two parts
    that indexes serve.

    Scored customers come from the score table (a page of the default sort is read off
    an index; from the customer side PostgreSQL hash-joins and sorts all 100k rows,
    about 200 ms), then the customers the current run has not scored yet (new since it)
    by id. Scored rows without a value (no P(alive) yet) come before the unscored ones.
    """

    def __init__(self, scored: QuerySet[CustomerScore], *, with_unscored: bool) -> None:
        self.scored = scored
        self.with_unscored = with_unscored
        self.counts: tuple[int, int] | None = None

    def _counts(self) -> tuple[int, int]:
        if self.counts is None:
            scored = self.scored.count()
            # Every score row belongs to a customer (deletes cascade), so the difference
            # is the unscored customers, without an anti-join over both tables.
            unscored = max(Customer.objects.count() - scored, 0) if self.with_unscored else 0
            self.counts = (scored, unscored)
        return self.counts

    def count(self) -> int:
        return sum(self._counts())

    def __getitem__(self, index: slice) -> list[Customer]:
        start, stop = index.start or 0, index.stop
        rows: list[Customer] = []
        for score in self.scored[start:stop]:
            customer = score.customer
            customer.score = score  # what select_related("score") would have cached
            rows.append(customer)
        if self.with_unscored and (stop is None or len(rows) < stop - start):
            scored, unscored = self._counts()
            if unscored:
                skip = max(start - scored, 0)
                rest = (Customer.objects.select_related("score")
                        .filter(~Exists(CustomerScore.objects.filter(customer_id=OuterRef("pk"))))
                        .order_by("id"))
                rows += list(rest[skip:None if stop is None else skip + stop - start - len(rows)])
        return rows


class CountedPage:
    """A filtered list for Paginator that learns its total with the requested page.

    ``COUNT(*) OVER ()`` on the page query: a search reads every customer, and
    Paginator's separate COUNT would read them all a second time.
    """

    def __init__(self, queryset: QuerySet, *, page_size: int, page: int) -> None:
        self.queryset = queryset
        self.start = max(page - 1, 0) * page_size
        self.stop = self.start + page_size
        self.rows: list | None = None
        self.total: int | None = None

    def count(self) -> int:
        if self.total is None:
            self.rows = list(self.queryset.annotate(matching=Window(Count("*")))[self.start:self.stop])
            # Past the last page the window has no row to report on: count plainly.
            self.total = self.rows[0].matching if self.rows else self.queryset.count()
        return self.total

    def __getitem__(self, index: slice) -> list:
        if self.rows is not None and (index.start or 0, index.stop) == (self.start, self.stop):
            return self.rows
        return list(self.queryset[index])


def customer_list(
    *, search: str = "", rfm: str = "", cluster: str = "", r: int | None = None,
    f: int | None = None, sort: str = "-monetary", page_size: int = 50, page: int = 1,
) -> CountedPage | ScoredFirst:
    """One page of customers with their score row joined (no N+1), for Paginator."""
    descending = sort.startswith("-")
    fields = CUSTOMER_SORTS.get(sort.lstrip("-"), CUSTOMER_SORTS["monetary"])
    score_filters = {name: value for name, value in (
        ("rfm_key", rfm), ("cluster_key", cluster), ("r_score", r), ("f_score", f)) if value}
    if not search and fields[0].startswith("score__"):
        scored = (CustomerScore.objects.select_related("customer").filter(**score_filters)
                  .order_by(*(_nulls_last(n.removeprefix("score__"), descending) for n in fields),
                            "customer_id"))
        return ScoredFirst(scored, with_unscored=not score_filters)
    qs = Customer.objects.select_related("score").filter(
        **{f"score__{name}": value for name, value in score_filters.items()})
    if search:
        qs = qs.filter(_search_filter(search))
    qs = qs.order_by(*(_nulls_last(name, descending) for name in fields), "id")
    return CountedPage(qs, page_size=page_size, page=page)


def _dated_ahead_after(run: SegmentationRun | None) -> datetime:
    # An order after this is one the analysis leaves out; when every order is dated in
    # the future, the run counted them all (its newest).
    return max(counted_until(), run.as_of) if run and run.as_of else counted_until()


DATED_AHEAD = "dated_ahead"  # every order that counts is dated after today
NO_ORDER = "no_order"  # no order that was not cancelled (or no order at all)


def customers_left_out(customer_ids: list[int]) -> dict[int, str]:
    """Of ``customer_ids`` (customers without scores), those the analysis leaves out, so
    that no next run scores them as things stand: {id: DATED_AHEAD or NO_ORDER}. The
    others are new since the current run."""
    if not customer_ids:
        return {}
    future = _dated_ahead_after(current_run())
    earliest = dict(Order.objects.filter(customer_id__in=customer_ids, is_cancelled=False)
                    .values("customer_id").annotate(earliest=Min("ordered_at"))
                    .values_list("customer_id", "earliest"))
    return {pk: NO_ORDER if pk not in earliest else DATED_AHEAD for pk in customer_ids
            if pk not in earliest or earliest[pk] > future}


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderedProduct:
    name: str
    quantity: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderRow:
    """One order of a profile's timeline with its products, read for the listed page only."""

    order: Order
    products: tuple[OrderedProduct, ...]


class OrderHistory:
    """A customer's orders, newest first, for Paginator.

    The count is the profile's totals query's, and a page reads its orders' lines in
    one query of plain values: a grocery household has thousands of lines, and
    building a model instance for each (or listing every order) took most of the
    profile's time.
    """

    def __init__(self, customer_id: int, total: int) -> None:
        self.customer_id = customer_id
        self.total = total

    def count(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> list[OrderRow]:
        orders = list(Order.objects.filter(customer_id=self.customer_id)
                      .order_by("-ordered_at", "-id")[index])
        products: dict[int, list[OrderedProduct]] = defaultdict(list)
        lines = (OrderLine.objects.filter(order_id__in=[o.pk for o in orders])
                 .order_by("order_id", "is_return", "product_id")
                 .values_list("order_id", "product__name", "product__sku", "quantity"))
        for order_id, name, sku, quantity in lines:
            products[order_id].append(OrderedProduct(name=name or sku, quantity=quantity))
        return [OrderRow(order=o, products=tuple(products[o.pk])) for o in orders]


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerProfile:
    customer: Customer
    score: CustomerScore | None
    rfm_name: str
    rfm_description: str
    cluster_name: str
    # What the cluster's generated name claims (none when the owner renamed it): the
    # page says where it is not true of this customer.
    cluster_claims: list[dict]
    # Paged by the view; the counts and `net_total` are of all the customer's orders.
    orders: OrderHistory
    order_count: int  # every row the timeline lists: purchases, returns, cancelled orders
    # Orders with a positive gross value that were not cancelled: what the analysis
    # counts as purchases (its "Orders" figure), so the page's two counts agree.
    purchase_count: int
    other_count: int  # returns exported as their own orders, and cancelled orders
    # Orders of 0.00 (nothing bought, nothing returned): neither purchases nor returns.
    free_count: int
    # Orders dated after today (and after the run's newest): the analysis leaves them out.
    future_count: int
    net_total: Decimal
    products: list[dict[str, Any]]
    # How many products the customer bought in all; `products` lists the top ones.
    product_count: int
    # Items in orders whose file named no products (Order.unlisted_quantity), and how
    # many such orders: the page says so instead of showing an empty product table.
    unlisted_items: int
    unlisted_orders: int
    recommendations: list[RecommendedProduct]
    clv_enough_history: bool
    clv_reason: str
    # The purchase-count model the run chose ("MBG/NBD", "Pareto/NBD"), "" before any run.
    clv_model: str
    # The day "days since last purchase" was counted to, when that is not today.
    counted_to: date | None = None
    # Why no run scores this unscored customer (customers_left_out), "" when one will.
    left_out: str = ""


PROFILE_PRODUCTS = 50


def _customer_products(customer_id: int, limit: int = PROFILE_PRODUCTS
                       ) -> tuple[list[dict[str, Any]], int]:
    """The customer's most bought products, and how many products they bought in all.

    Bought: on a purchase line of an order that was not cancelled, as the product page
    and the analysis count it; a later return does not undo the purchase."""
    # "IS NOT TRUE" rather than "NOT l.is_return": PostgreSQL 18 would take the latter
    # as an index condition on orderline (order_id, product_id, is_return), cost each
    # probe as a skip scan over every product and read all million lines instead
    # (170 ms instead of 12 for a customer with 150 orders).
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT l.product_id, p.name, p.sku, p.category, SUM(l.quantity),
                      COUNT(DISTINCT l.order_id), SUM(l.line_total), COUNT(*) OVER ()
               FROM ingest_order o
               JOIN ingest_orderline l ON l.order_id = o.id AND l.is_return IS NOT TRUE
               JOIN ingest_product p ON p.id = l.product_id
               WHERE o.customer_id = %s AND NOT o.is_cancelled
               GROUP BY l.product_id, p.id ORDER BY 6 DESC, 5 DESC, 1 LIMIT %s""",
            [customer_id, limit],
        )
        rows = cursor.fetchall()
    products = [{"product_id": pid, "product__name": name, "product__sku": sku,
                 "product__category": category, "quantity": quantity, "orders": orders,
                 "spent": spent}
                for pid, name, sku, category, quantity, orders, spent, _count in rows]
    return products, rows[0][-1] if rows else 0


def customer_profile(customer_id: int) -> CustomerProfile:
    customer = Customer.objects.select_related("score").get(pk=customer_id)
    score = getattr(customer, "score", None)
    run = current_run()
    names = segment_names(run)
    rfm_name = rfm_description = cluster_name = ""
    cluster_claims: list[dict] = []
    if score is not None:
        info = RFM_SEGMENTS.get(score.rfm_key)
        rfm_name = names.get((SegmentKind.RFM, score.rfm_key), info.name if info else score.rfm_key)
        rfm_description = info.description if info else ""
        cluster_name = names.get((SegmentKind.CLUSTER, score.cluster_key), score.cluster_key)
        cluster_claims = cluster_name_claims(run).get(score.cluster_key, [])
    clv = (run.metrics.get("clv", {}) if run else {}) or {}
    # One pass over all the customer's orders for every total the page shows; the
    # listing reads only its page. A cancelled order's net total is 0 (order_totals).
    future = _dated_ahead_after(run)
    totals = Order.objects.filter(customer=customer).aggregate(
        orders=Count("id"), net=Sum("net_total"),
        purchases=Count("id", filter=Q(gross_total__gt=0, is_cancelled=False)),
        free=Count("id", filter=Q(gross_total=0, net_total=0, returned_total=0,
                                  refunded_total=0, is_cancelled=False)),
        future=Count("id", filter=Q(ordered_at__gt=future, is_cancelled=False)),
        # Items bought, as the products table counts units: an order's rows without a
        # product net its returns, so a return exported as its own order (below 0) and a
        # cancelled order bought nothing.
        unlisted_items=Sum("unlisted_quantity",
                           filter=Q(unlisted_quantity__gt=0, is_cancelled=False)),
        unlisted_orders=Count("id", filter=Q(unlisted_quantity__isnull=False)))
    products, product_count = _customer_products(customer_id)
    return CustomerProfile(
        customer=customer, score=score, rfm_name=rfm_name, rfm_description=rfm_description,
        cluster_name=cluster_name, cluster_claims=cluster_claims,
        orders=OrderHistory(customer_id, totals["orders"]),
        order_count=totals["orders"], purchase_count=totals["purchases"],
        other_count=totals["orders"] - totals["purchases"] - totals["free"],
        free_count=totals["free"], future_count=totals["future"], net_total=totals["net"] or Decimal(0),
        products=products, product_count=product_count,
        unlisted_items=totals["unlisted_items"] or 0, unlisted_orders=totals["unlisted_orders"],
        recommendations=customer_recommendations([customer_id], limit=5).get(customer_id, []),
        clv_enough_history=bool(clv.get("enough_history")),
        clv_reason=clv.get("reason", "No analysis has run yet."),
        clv_model=MODEL_NAMES.get((clv.get("model") or {}).get("chosen"), ""),
        counted_to=days_counted_to(run.as_of if run else None),
        left_out="" if score is not None else customers_left_out([customer_id]).get(customer_id, ""),
    )


# ------------------------------------------------------------------ segments


def segment_members(kind: str, key: str) -> QuerySet[CustomerScore]:
    field = "rfm_key" if kind == SegmentKind.RFM else "cluster_key"
    return CustomerScore.objects.filter(**{field: key}).select_related("customer")


def segment_placed_count(kind: str, key: str) -> int:
    """Members the classifier placed since the run (new customers): the segment lists
    them, but its figures are the run's, which did not count them."""
    return segment_members(kind, key).filter(placed_by=PlacedBy.CLASSIFIER).count()


MEMBER_SORTS = {
    "recency": "recency_days", "frequency": "frequency", "monetary": "monetary",
    "r": "r_score", "f": "f_score", "m": "m_score", "propensity": "propensity",
    "clv": "expected_value_12m", "name": "customer__last_name",
}


def segment_members_sorted(kind: str, key: str, *, sort: str = "-monetary", search: str = "",
                           min_orders: int | None = None) -> QuerySet[CustomerScore]:
    qs = segment_members(kind, key)
    if search:
        qs = qs.filter(_search_filter(search))
    if min_orders:
        qs = qs.filter(frequency__gte=min_orders)
    name = MEMBER_SORTS.get(sort.lstrip("-"), "monetary")
    order = F(name).desc(nulls_last=True) if sort.startswith("-") else F(name).asc(nulls_last=True)
    return qs.order_by(order, "customer_id")


def segment_top_products(kind: str, key: str, *, limit: int = 10,
                         segment: Segment | None = None) -> list[dict[str, Any]]:
    """Members' best sellers; ``segment``'s stored list when its run computed one."""
    if segment is not None and segment.top_products is not None:
        return segment.top_products[:limit]
    field = "rfm_key" if kind == SegmentKind.RFM else "cluster_key"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.id, COALESCE(NULLIF(p.name, ''), p.sku), p.category,
                       COUNT(DISTINCT l.order_id), SUM(l.line_total)::float8
                FROM segments_customerscore s
                JOIN ingest_order o ON o.customer_id = s.customer_id AND NOT o.is_cancelled
                JOIN ingest_orderline l ON l.order_id = o.id AND NOT l.is_return
                                         AND l.quantity > 0
                JOIN ingest_product p ON p.id = l.product_id
                WHERE s.{field} = %s
                GROUP BY p.id ORDER BY 4 DESC, 5 DESC NULLS LAST LIMIT %s""",
            [key, limit],
        )
        return [{"id": i, "name": n, "category": c, "orders": o, "revenue": r}
                for i, n, c, o, r in cursor.fetchall()]


def segment_top_categories(kind: str, key: str, *, limit: int = 8,
                           segment: Segment | None = None) -> list[dict[str, Any]]:
    if segment is not None and segment.top_categories is not None:
        return segment.top_categories[:limit]
    field = "rfm_key" if kind == SegmentKind.RFM else "cluster_key"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COALESCE(NULLIF(p.category, ''), '(none)'), COUNT(DISTINCT l.order_id),
                       SUM(l.line_total)::float8
                FROM segments_customerscore s
                JOIN ingest_order o ON o.customer_id = s.customer_id AND NOT o.is_cancelled
                JOIN ingest_orderline l ON l.order_id = o.id AND NOT l.is_return
                                         AND l.quantity > 0
                JOIN ingest_product p ON p.id = l.product_id
                WHERE s.{field} = %s
                GROUP BY 1 ORDER BY 3 DESC NULLS LAST LIMIT %s""",
            [key, limit],
        )
        return [{"category": c, "orders": o, "revenue": r} for c, o, r in cursor.fetchall()]


def scatter_points(
    limit: int = 20_000, run: SegmentationRun | None = None
) -> tuple[list[tuple[float, float, str, str, int]], int]:
    """(recency_days, monetary, rfm_key, cluster_key, customer_id) for a chart, and the total.

    Above ``limit`` customers a deterministic random sample (by hashed id) is returned.
    """
    stored = _page_data(run, "scatter")
    if stored is not None and len(stored["points"]) >= min(limit, stored["total"]):
        return [tuple(p) for p in stored["points"][:limit]], stored["total"]
    total = CustomerScore.objects.count()
    with connection.cursor() as cursor:
        if total <= limit:
            cursor.execute("SELECT recency_days, monetary, rfm_key, cluster_key, customer_id "
                           "FROM segments_customerscore")
        else:
            cursor.execute(
                "SELECT recency_days, monetary, rfm_key, cluster_key, customer_id "
                "FROM segments_customerscore ORDER BY hashint8(customer_id) LIMIT %s", [limit]
            )
        return cursor.fetchall(), total


def rfm_grid(run: SegmentationRun | None = None) -> list[dict[str, Any]]:
    """Customers and revenue per (R, F) cell of the current scores."""
    stored = _page_data(run, "rfm_grid")
    if stored is not None:
        return stored
    rows = (
        CustomerScore.objects.values("r_score", "f_score")
        .annotate(customers=Count("customer_id"), revenue=Sum("monetary"))
        .order_by("r_score", "f_score")
    )
    return list(rows)


# ------------------------------------------------------------------ rules and products


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleRow:
    rule: BasketRule
    antecedents: list[Product]
    consequents: list[Product]
    segment_name: str
    sentence: str


def _products(ids: set[int]) -> dict[int, Product]:
    return Product.objects.in_bulk(list(ids))


def rules_list(
    *, segment: str | None = "", product_id: int | None = None, category: str = "",
    min_lift: float | None = None, sort: str = "-lift", run: SegmentationRun | None = None,
) -> QuerySet[BasketRule]:
    run = run or rules_run()
    qs = BasketRule.objects.filter(run=run) if run else BasketRule.objects.none()
    if segment is not None:
        qs = qs.filter(segment_key=segment)
    if product_id:
        qs = qs.filter(Q(antecedent_ids__contains=[product_id]) | Q(consequent_ids__contains=[product_id]))
    if category:
        ids = list(Product.objects.filter(category=category).values_list("id", flat=True))
        qs = qs.filter(Q(antecedent_ids__overlap=ids) | Q(consequent_ids__overlap=ids))
    if min_lift:
        qs = qs.filter(lift__gte=min_lift)
    allowed = {"lift", "confidence", "support", "order_count", "leverage"}
    field = sort.lstrip("-") if sort.lstrip("-") in allowed else "lift"
    return qs.order_by(f"-{field}" if sort.startswith("-") else field, "pk")


def rule_rows(rules: list[BasketRule]) -> list[RuleRow]:
    """Rules with their products and a plain-language sentence (two queries in all)."""
    ids = {p for r in rules for p in (*r.antecedent_ids, *r.consequent_ids)}
    products = _products(ids)
    names = {pid: (p.name or p.sku) for pid, p in products.items()}
    segment_labels = segment_names()
    rows = []
    for rule in rules:
        segment_name = (
            segment_labels.get((SegmentKind.RFM, rule.segment_key),
                               _default_name(SegmentKind.RFM, rule.segment_key))
            if rule.segment_key else ""
        )
        sentence = rule_sentence(
            {"antecedents": rule.antecedent_ids, "consequents": rule.consequent_ids,
             "confidence": rule.confidence, "lift": rule.lift, "order_count": rule.order_count},
            names, segment_name or None,
        )
        rows.append(RuleRow(
            rule=rule,
            antecedents=[products[p] for p in rule.antecedent_ids if p in products],
            consequents=[products[p] for p in rule.consequent_ids if p in products],
            segment_name=segment_name or gettext("All orders"), sentence=sentence,
        ))
    return rows


def rule_segment_keys(run: SegmentationRun | None = None) -> list[str]:
    run = run or rules_run()
    if run is None:
        return []
    return sorted(set(BasketRule.objects.filter(run=run).values_list("segment_key", flat=True)))


def product_categories() -> list[str]:
    return list(Product.objects.exclude(category="").order_by("category")
                .values_list("category", flat=True).distinct())


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductDetail:
    product: Product
    orders: int
    customers: int
    revenue: float | None  # None: the product was only ever sold on unpriced lines
    bought_with: list[dict[str, Any]]  # product, orders together, share of this product's orders
    rules: list[RuleRow]


def product_detail(product_id: int, *, limit: int = 15) -> ProductDetail:
    """The product's sales: the orders the analysis counts (not cancelled, not dated
    after its newest order), so its figures add up with the segments' best sellers."""
    product = Product.objects.get(pk=product_id)
    until = _dated_ahead_after(current_run())
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(DISTINCT l.order_id), COUNT(DISTINCT o.customer_id),
                      SUM(l.line_total)::float8  -- null: sold only on unpriced lines
               FROM ingest_orderline l JOIN ingest_order o ON o.id = l.order_id
               WHERE l.product_id = %s AND NOT l.is_return AND NOT o.is_cancelled
                 AND o.ordered_at <= %s""",
            [product_id, until],
        )
        orders, customers, revenue = cursor.fetchone()
        cursor.execute(
            """SELECT other.product_id, COUNT(DISTINCT other.order_id)
               FROM ingest_orderline mine
               JOIN ingest_order o ON o.id = mine.order_id AND NOT o.is_cancelled
                                  AND o.ordered_at <= %s
               JOIN ingest_orderline other
                 ON other.order_id = mine.order_id AND other.product_id <> mine.product_id
                AND NOT other.is_return
               WHERE mine.product_id = %s AND NOT mine.is_return
               GROUP BY other.product_id ORDER BY 2 DESC, 1 LIMIT %s""",
            [until, product_id, limit],
        )
        together = cursor.fetchall()
    products = _products({pid for pid, _ in together})
    bought_with = [
        {"product": products[pid], "orders": n, "share": n / orders if orders else 0.0}
        for pid, n in together if pid in products
    ]
    rules = rule_rows(list(rules_list(product_id=product_id, segment="")[:20]))
    return ProductDetail(product=product, orders=orders, customers=customers, revenue=revenue,
                         bought_with=bought_with, rules=rules)
