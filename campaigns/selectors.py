"""Reads for campaign pages, the API and the sender: audiences, reports, the outbox list.

The segments app answers "who is in segment X"; the functions prefixed `segment_`
below are the one place that calls it, so a change there changes one file here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from campaigns import conf, verdicts
from campaigns.analysis.attribution import HOLDOUT, TREATMENT, attribute_orders, attribution_lift
from campaigns.analysis.holdout import holdout_size
from campaigns.analysis.lift import ConversionLift
from campaigns.analysis.power import DetectableLift, detectable_lift
from campaigns.emails.merge import ProductLink
from campaigns.emails.message import _ADDRESS_RE  # the address rule build_message enforces
from campaigns.models import (
    AudienceKind,
    Campaign,
    CampaignSend,
    Recipient,
    RecipientGroup,
    RecipientStatus,
    SkipReason,
    Suppression,
)
from ingest.models import Customer, Order
from ingest.services.privacy import email_hash
from profiler_site.core.shop import product_page_url, shop_profile
from profiler_site.core.templatetags.money import format_money
from segments import selectors as segment_selectors

logger = logging.getLogger(__name__)

# --- what campaigns reads from the segments app (campaigns may import segments) ----


@dataclass(frozen=True, kw_only=True, slots=True)
class AudienceChoice:
    kind: str
    key: str
    name: str
    size: int


def segment_audience_options() -> list[AudienceChoice]:
    return [
        AudienceChoice(kind=o.kind, key=str(o.key), name=str(o.name), size=int(o.size))
        for o in segment_selectors.audience_options()
    ]


def segment_display_name(kind: str, key: str) -> str:
    if kind == AudienceKind.ALL:
        return str(AudienceKind.ALL.label)
    try:
        return str(segment_selectors.segment_display_name(kind, key))
    except (ValueError, LookupError):  # an unknown key: show it rather than break the page
        logger.info("no display name for audience %s/%s", kind, key)
    return f"{kind} {key}"


def segment_customer_ids(*, kind: str, key: str) -> list[int] | None:
    """Customer ids of an audience; None means "every customer" (cheaper as a queryset)."""
    if kind == AudienceKind.ALL:
        return None
    try:
        return [int(i) for i in segment_selectors.audience_customer_ids(kind=kind, key=key)]
    except ValueError:  # an unknown kind or key (e.g. a stale link): nobody
        return []


def segment_keys(customer_ids: list[int]) -> dict[int, dict]:
    return segment_selectors.customer_segment_keys(customer_ids) if customer_ids else {}


def segment_recommendations(customer_ids: list[int], *, limit: int = 3) -> dict[int, tuple]:
    """Each customer's recommended products with their prices and pages, for the merge tag.

    A product links to its page when the shop has a product page address (Settings) and
    the product a SKU; else it is its name and price (docs/recommended-products.md). The
    price is written in the site's language, not the reader's: the preview an owner reads
    in Chinese must show the email exactly as it is sent.
    """
    if not customer_ids:
        return {}
    found = segment_selectors.customer_recommendations(customer_ids, limit=limit)
    prices = segment_selectors.product_prices(
        [p.product_id for products in found.values() for p in products])
    shop = shop_profile()
    currency = shop.currency

    def price(product_id: int) -> str:
        amount = prices.get(product_id)
        return "" if amount is None else format_money(amount, currency, language=settings.LANGUAGE_CODE)

    return {
        int(cid): tuple(ProductLink(name=str(p.name), price=price(p.product_id),
                                    url=product_page_url(shop.product_url_template, p.sku))
                        for p in products)
        for cid, products in found.items()
    }


# --- audience ---------------------------------------------------------------------

CONSENT_RULE = gettext_lazy(
    "A customer whose shop record says “no marketing” is never emailed. When your data "
    "records consent for anyone, customers with no consent recorded are left out too; "
    "only when your data has no consent information at all are they included."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AudienceSummary:
    kind: str
    key: str
    name: str
    in_segment: int
    no_email: int
    suppressed: int
    no_consent: int
    eligible_ids: tuple[int, ...]
    treatment_n: int
    holdout_n: int
    shop_records_consent: bool
    baseline_rate: float | None
    detectable: DetectableLift

    @property
    def eligible(self) -> int:
        return len(self.eligible_ids)

    @property
    def detectable_lift(self) -> str:
        """The detectable-lift sentence in the active language (worded at render time)."""
        return verdicts.detectable_lift_sentence(self.detectable)


def shop_records_consent() -> bool:
    return Customer.objects.filter(accepts_marketing__isnull=False).exists()


def audience_summary(*, kind: str, key: str, holdout_share: float = 0.10) -> AudienceSummary:
    """Who of a segment can be emailed, who is left out and why, and what lift is detectable."""
    ids = segment_customer_ids(kind=kind, key=key)
    people = Customer.objects.all() if ids is None else Customer.objects.filter(pk__in=ids)
    consent_recorded = shop_records_consent()
    suppressed_emails = set(Suppression.objects.exclude(email=None).values_list("email", flat=True))
    # Addresses of erased customers are kept only as keyed hashes (rare: hashed per
    # address only when there are any).
    erased_hashes = set(Suppression.objects.exclude(email_hash=None)
                        .values_list("email_hash", flat=True))
    in_segment = no_email = suppressed = no_consent = 0
    eligible: list[int] = []
    for cid, email, accepts in people.values_list("id", "email", "accepts_marketing").iterator(
        chunk_size=5000
    ):
        in_segment += 1
        email = (email or "").strip()
        if not email or not _ADDRESS_RE.fullmatch(email):
            no_email += 1
        elif email.lower() in suppressed_emails or (
                erased_hashes and email_hash(email) in erased_hashes):
            suppressed += 1
        elif accepts is False or (accepts is None and consent_recorded):
            no_consent += 1
        else:
            eligible.append(cid)
    eligible.sort()
    share = holdout_share if 0 <= holdout_share < 1 else 0.10
    held = holdout_size(len(eligible), share)
    baseline = audience_baseline_rate(eligible)
    return AudienceSummary(
        kind=kind,
        key=key,
        name=segment_display_name(kind, key),
        in_segment=in_segment,
        no_email=no_email,
        suppressed=suppressed,
        no_consent=no_consent,
        eligible_ids=tuple(eligible),
        treatment_n=len(eligible) - held,
        holdout_n=held,
        shop_records_consent=consent_recorded,
        baseline_rate=baseline,
        detectable=detectable_lift(
            audience_size=len(eligible), holdout_share=share, baseline_rate=baseline
        ),
    )


def audience_baseline_rate(customer_ids: list[int], *, weeks: int = 8) -> float | None:
    """Share of these customers buying in a typical 7-day window (the last `weeks` of data).

    Measured back from the shop's latest order, not from today: an export is often
    a few days old. Buying is a purchase, as the report counts conversions: not a
    return or an order of 0.00. None when there is nothing to measure.
    """
    if not customer_ids:
        return None
    latest = Order.objects.filter(is_cancelled=False).aggregate(m=Max("ordered_at"))["m"]
    if latest is None:
        return None
    start = latest - timedelta(days=7 * weeks)
    rows = Order.objects.filter(
        customer_id__in=customer_ids, is_cancelled=False, gross_total__gt=0, ordered_at__gt=start
    ).values_list("customer_id", "ordered_at")
    buyer_weeks = {(cid, int((latest - at).total_seconds() // (7 * 86400))) for cid, at in rows}
    rate = len(buyer_weeks) / (weeks * len(customer_ids))
    return min(rate, 0.99)


# --- lists and detail ---------------------------------------------------------------


def campaign_list() -> list[Campaign]:
    counts = Count("recipients", filter=Q(recipients__status=RecipientStatus.SENT))
    # Flows' carrier campaigns are reported on the flows' own pages.
    return list(Campaign.objects.filter(from_flow=False).annotate(sent_count=counts)
                .order_by("-created_at"))


def campaign_latest_send(campaign: Campaign) -> CampaignSend | None:
    return campaign.sends.order_by("-created_at").first()


# --- the report -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupRow:
    group: str
    label: str
    recipients: int
    conversions: int
    conversion_rate: float
    revenue: float
    revenue_per_recipient: float

    @property
    def conversion_pct(self) -> float:
        return 100 * self.conversion_rate


@dataclass(frozen=True, kw_only=True, slots=True)
class SegmentRow:
    segment: str
    treatment_n: int
    treatment_rate: float
    holdout_n: int
    holdout_rate: float

    @property
    def treatment_pct(self) -> float:
        return 100 * self.treatment_rate

    @property
    def holdout_pct(self) -> float:
        return 100 * self.holdout_rate


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedCount:
    reason: str  # a SkipReason value; `label` words it when the page renders
    count: int

    @property
    def label(self) -> str:
        return str(SkipReason(self.reason).label) if self.reason in SkipReason.values \
            else self.reason


def _skipped_counts(rows) -> tuple[SkippedCount, ...]:
    """Skipped rows per reason, most first; `rows` is a Recipient queryset."""
    found = (rows.filter(status=RecipientStatus.SKIPPED).values("skip_reason")
             .annotate(n=Count("id")).order_by("-n", "skip_reason"))
    return tuple(SkippedCount(reason=r["skip_reason"], count=r["n"]) for r in found)


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignReport:
    campaign_id: int
    audience: int
    treatment: int
    holdout: int
    pending: int
    sending: int
    sent: int
    failed: int
    unknown: int
    skipped: int
    skipped_reasons: tuple[SkippedCount, ...]
    opened: int
    clicked: int
    unsubscribed: int
    window_days: int
    send_started_at: datetime | None
    groups: tuple[GroupRow, ...]
    lift: ConversionLift | None
    small_sample_warning: str
    chart: dict | None
    segments: tuple[SegmentRow, ...]

    @property
    def delivered(self) -> int:
        # Accepted by the SMTP server; bounces arriving later are not read back.
        return self.sent

    @property
    def lift_text(self) -> verdicts.LiftText | None:
        """The verdict, test name and p-value in the active language (worded at render time)."""
        return None if self.lift is None else verdicts.lift_text(self.lift)


# Lazy labels, made text per call so the report reads in the request's language.
_GROUP_LABELS = {TREATMENT: RecipientGroup.TREATMENT.label, HOLDOUT: RecipientGroup.HOLDOUT.label}


def campaign_report(campaign: Campaign) -> CampaignReport:
    """Delivery, engagement, conversions and lift of one campaign, live from the orders."""
    counts = dict(
        Recipient.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    engagement = Recipient.objects.filter(campaign=campaign).aggregate(
        treatment=Count("id", filter=Q(group=RecipientGroup.TREATMENT)),
        holdout=Count("id", filter=Q(group=RecipientGroup.HOLDOUT)),
        opened=Count("id", filter=Q(opens__gt=0)),
        clicked=Count("id", filter=Q(clicks__gt=0)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )
    people = list(
        Recipient.objects.filter(campaign=campaign).values(
            "id", "customer_id", "group", "status", "sent_at"
        )
    )
    for person in people:
        if person["customer_id"] is None:
            # A removed customer (an undone import) stays a recipient who bought
            # nothing; a negative id is unique and matches no order.
            person["customer_id"] = -person["id"]
    groups: tuple[GroupRow, ...] = ()
    lift = None
    chart = None
    segments: tuple[SegmentRow, ...] = ()
    warning = ""
    start = campaign.send_started_at
    if people and start is not None:
        attribution = _attribution(campaign, people, start)
        summary = attribution.summary
        groups = tuple(
            GroupRow(
                group=g,
                label=str(_GROUP_LABELS[g]),
                recipients=int(summary.loc[g, "recipients"]),
                conversions=int(summary.loc[g, "conversions"]),
                conversion_rate=float(summary.loc[g, "conversion_rate"] or 0.0),
                revenue=float(summary.loc[g, "revenue"]),
                revenue_per_recipient=float(summary.loc[g, "revenue_per_recipient"] or 0.0),
            )
            for g in (TREATMENT, HOLDOUT)
        )
        if engagement["treatment"] and engagement["holdout"]:
            lift = attribution_lift(attribution)
            if lift.small_sample and verdicts.groups_big_enough(lift):
                warning = gettext(
                    "Few purchases so far: with this few buyers the numbers below can easily "
                    "come from chance. Treat them as a first look, not an answer."
                )
            elif lift.small_sample:
                warning = gettext(
                    "Small sample: with groups this size the numbers below can easily come "
                    "from chance. Treat them as a first look, not an answer."
                )
        else:
            warning = gettext("Nobody was held out, so the email's effect cannot be measured.")
        chart = _chart(attribution.daily, days_so_far=_days_so_far(start))
        segments = _segment_rows(attribution.by_segment)
    return CampaignReport(
        campaign_id=campaign.pk,
        audience=len(people),
        treatment=engagement["treatment"],
        holdout=engagement["holdout"],
        pending=counts.get(RecipientStatus.PENDING, 0) + counts.get(RecipientStatus.CLAIMED, 0),
        sending=counts.get(RecipientStatus.SENDING, 0),
        sent=counts.get(RecipientStatus.SENT, 0),
        failed=counts.get(RecipientStatus.FAILED, 0),
        unknown=counts.get(RecipientStatus.UNKNOWN, 0),
        skipped=counts.get(RecipientStatus.SKIPPED, 0),
        skipped_reasons=_skipped_counts(Recipient.objects.filter(campaign=campaign)),
        opened=engagement["opened"],
        clicked=engagement["clicked"],
        unsubscribed=engagement["unsubscribed"],
        window_days=campaign.attribution_window_days,
        send_started_at=start,
        groups=groups,
        lift=lift,
        small_sample_warning=warning,
        chart=chart,
        segments=segments,
    )


def _attribution(campaign: Campaign, people: list[dict], start: datetime):
    recipients = pd.DataFrame(
        {
            "customer_id": [p["customer_id"] for p in people],
            "group": [p["group"] for p in people],
            "sent_at": pd.to_datetime(
                [p["sent_at"] if p["status"] == RecipientStatus.SENT else None for p in people],
                utc=True,
            ),
        }
    )
    keys = segment_keys([p["customer_id"] for p in people])
    recipients["segment"] = [
        (keys.get(p["customer_id"]) or {}).get("rfm_name") or "—" for p in people
    ]
    last_reference = max([start, *[p["sent_at"] for p in people if p["sent_at"]]])
    window = timedelta(days=campaign.attribution_window_days)
    orders = pd.DataFrame.from_records(
        Order.objects.filter(
            customer_id__in=recipients["customer_id"].tolist(),
            is_cancelled=False,
            ordered_at__gt=start,
            ordered_at__lte=last_reference + window,
        ).values("customer_id", "ordered_at", "net_total", "gross_total"),
        columns=["customer_id", "ordered_at", "net_total", "gross_total"],
    )
    if orders.empty:
        orders = pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="int64"),
                "ordered_at": pd.Series(dtype="datetime64[ns, UTC]"),
                "net_total": pd.Series(dtype="float64"),
                "gross_total": pd.Series(dtype="float64"),
            }
        )
    return attribute_orders(
        recipients, orders, send_started_at=start, window_days=campaign.attribution_window_days
    )


def _days_so_far(start: datetime) -> int:
    """Days of the window that have begun: day 1 is the first 24 hours after sending."""
    return max(1, math.ceil((timezone.now() - start) / timedelta(days=1)))


def _chart(daily: pd.DataFrame, *, days_so_far: int) -> dict:
    """Plotly figure (as a dict) of the cumulative share of each group that bought.

    Only days that have begun are drawn: a flat line into the future would read as
    "nobody will buy".
    """
    data = []
    daily = daily[daily["day"] <= days_so_far]
    # plotly.js fills in %{x}, %{y} and %{customdata}.
    # xgettext:no-python-format
    hover = gettext("day %{x}: %{y:.1f}% bought (%{customdata} people)") + "<extra></extra>"
    for group, colour in ((TREATMENT, "#1a5fb4"), (HOLDOUT, "#9a9996")):
        rows = daily[daily["group"] == group]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": str(_GROUP_LABELS[group]),
                "x": [int(d) for d in rows["day"]],
                "y": [round(100 * float(r), 3) for r in rows["cumulative_rate"]],
                "customdata": [int(c) for c in rows["cumulative_conversions"]],
                "hovertemplate": hover,
                "line": {"color": colour},
            }
        )
    layout = {
        "xaxis": {"title": {"text": gettext("days after the email")}, "dtick": 1},
        # xgettext:no-python-format
        "yaxis": {"title": {"text": gettext("% of group who bought")}, "rangemode": "tozero",
                  "ticksuffix": "%"},
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "height": 320,
        "legend": {"orientation": "h"},
    }
    return {"data": data, "layout": layout}


def _segment_rows(by_segment: pd.DataFrame | None) -> tuple[SegmentRow, ...]:
    if by_segment is None or by_segment.empty:
        return ()
    rows = []
    for segment in sorted({s for s, _g in by_segment.index}, key=str):
        def pick(group: str, column: str, segment=segment) -> float:
            try:
                value = by_segment.loc[(segment, group), column]
            except KeyError:
                return 0
            return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else value

        rows.append(
            SegmentRow(
                segment=str(segment),
                treatment_n=int(pick(TREATMENT, "recipients")),
                treatment_rate=float(pick(TREATMENT, "conversion_rate")),
                holdout_n=int(pick(HOLDOUT, "recipients")),
                holdout_rate=float(pick(HOLDOUT, "conversion_rate")),
            )
        )
    return tuple(rows)


def customer_campaign_history(customer_id: int) -> list:
    """Every campaign this customer was part of, newest first, with what they did."""
    from campaigns.models import Recipient

    return list(
        Recipient.objects.filter(customer_id=customer_id)
        .select_related("campaign")
        .order_by("-campaign__created_at")[:50]
    )


# --- the Outbox page's counts ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxCounts:
    """The last 7 days of marketing email, all campaigns and flows together."""

    sent: int
    skipped: int
    skipped_reasons: tuple[SkippedCount, ...]
    weekly_cap: int  # 0: no limit


def outbox_counts(*, now: datetime) -> OutboxCounts:
    # A skipped row's `claimed_at` is when the sender decided to skip it.
    since = now - timedelta(days=7)
    recent = Recipient.objects.filter(
        Q(status=RecipientStatus.SENT, sent_at__gt=since)
        | Q(status=RecipientStatus.SKIPPED, claimed_at__gt=since)
    )
    reasons = _skipped_counts(recent)
    return OutboxCounts(
        sent=recent.filter(status=RecipientStatus.SENT).count(),
        skipped=sum(r.count for r in reasons),
        skipped_reasons=reasons,
        weekly_cap=conf.weekly_cap(),
    )
