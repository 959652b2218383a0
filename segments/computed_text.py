"""Text the pure analysis computed, shown in the reader's language.

The analysis (segments/analysis/) imports no Django and writes its names, descriptions,
rules and reasons in English; runs store them so. This module turns that stored English
back into the reader's language when a page shows it. It parses only the exact grammar
our own analysis produces (the constants it uses are imported from it); anything else,
such as a name the owner typed or text from an older grammar, passes through unchanged.

Every function returns the English text itself when English is active (the catalogue
maps each message to itself), so English pages read exactly as before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, ngettext, ngettext_lazy

from profiler_site.core.joins import (
    JOIN_CONDITIONS,
    JOIN_FACTS,
    JOIN_SENTENCES,
    JOIN_WORDS,
    join,
)
from profiler_site.core.shop import shop_profile
from profiler_site.core.templatetags.money import format_money
from profiler_site.core.templatetags.percent import percent
from segments.analysis.clustering import (
    DESCRIPTION_PREFIX,
    DESCRIPTION_SEPARATOR,
    FRIENDLY_NAMES,
    MONTHS_AGO,
    MONTHS_AGO_ONE,
    NAME_SEPARATOR,
    ORDER_SINGLE,
    ORDERS_ONE,
    ORDERS_RANGE,
    RULE_FOR_EVERYONE,
    RULE_SEPARATOR,
    SPEND_RANGE,
    UNNAMED_CLUSTER,
    NameClaim,
    claims_untrue,
    name_part_pattern,
)
from segments.analysis.rfm import Note, customer_notes

# ------------------------------------------------------------------ catalogue markers

# Copies of the English in segments/analysis/rfm.py, so makemessages finds them;
# tests/segments/test_computed_text.py fails if the two drift apart.
RFM_DESCRIPTIONS = (
    gettext_noop("Among your most recent buyers, and high on orders and spend together."),
    gettext_noop("Middling or better on recency, and high on orders and spend together."),
    gettext_noop("Among your more recent buyers, middling on orders and spend together."),
    gettext_noop("Among your most recent buyers, low on orders and spend together."),
    gettext_noop("Among your more recent buyers, low on orders and spend together."),
    gettext_noop("Middling on recency, and on orders and spend together."),
    gettext_noop("Middling on recency, low on orders and spend together."),
    gettext_noop("Longer since their last purchase than most customers, above the middle "
                 "on orders and spend together."),
    gettext_noop("Longer since their last purchase than most customers, yet top on orders "
                 "and spend together."),
    gettext_noop("Longer since their last purchase than most customers, low on orders and "
                 "spend together."),
    gettext_noop("Among the longest since their last purchase, low on orders and spend "
                 "together."),
)
# Stored by older runs, which ranked a refund-only customer by the refund's date: still
# shown in the reader's language until the next run replaces them.
_OLDER_RFM_DESCRIPTIONS = (
    gettext_noop("Longer since their last order than most customers, above the middle on "
                 "orders and spend together."),
    gettext_noop("Longer since their last order than most customers, yet top on orders and "
                 "spend together."),
    gettext_noop("Longer since their last order than most customers, low on orders and spend "
                 "together."),
    gettext_noop("Among the longest since their last order, low on orders and spend together."),
)

# Per feature column: a description sentence and a rule condition. The English of each
# is exactly what segments/analysis/clustering.py writes (label, number, unit).
_SENTENCES: dict[str, str] = {
    "recency_days": gettext_noop("last order %(value)s days ago (median %(median)s)"),
    "frequency": gettext_noop("orders %(value)s (median %(median)s)"),
    "monetary": gettext_noop("total spend %(value)s (median %(median)s)"),
    "avg_order_value": gettext_noop("average order %(value)s (median %(median)s)"),
    "tenure_days": gettext_noop("first order %(value)s days ago (median %(median)s)"),
    "mean_days_between_orders": gettext_noop(
        "days between orders %(value)s (median %(median)s)"
    ),
    "return_rate": gettext_noop("return rate %(value)s (median %(median)s)"),
}
_CONDITIONS: dict[str, str] = {
    "recency_days": gettext_noop("last order %(op)s %(value)s days ago"),
    "frequency": gettext_noop("orders %(op)s %(value)s"),
    "monetary": gettext_noop("total spend %(op)s %(value)s"),
    "avg_order_value": gettext_noop("average order %(op)s %(value)s"),
    "tenure_days": gettext_noop("first order %(op)s %(value)s days ago"),
    "mean_days_between_orders": gettext_noop("days between orders %(op)s %(value)s"),
    "return_rate": gettext_noop("return rate %(op)s %(value)s"),
}
# The words of generated cluster names ("new" is the joined-lately word; the RFM
# segment "New" is another message).
_NAME_WORDS: dict[str, str] = {
    "recent": gettext_noop("recent"),
    "lapsed": gettext_noop("lapsed"),
    "one-off": gettext_noop("one-off"),
    "frequent": gettext_noop("frequent"),
    "low spend": gettext_noop("low spend"),
    "high spend": gettext_noop("high spend"),
    "small baskets": gettext_noop("small baskets"),
    "big baskets": gettext_noop("big baskets"),
    "new": gettext_noop("new"),
    "long-standing": gettext_noop("long-standing"),
}
# The facts a cluster name states when no word is true of its members (clustering.py's
# MONTHS_AGO ... SPEND_RANGE), as patterns over the stored English and their messages.
_NAME_FACT_MESSAGES: tuple[tuple[str, str], ...] = (
    (MONTHS_AGO, gettext_noop("last order %(low)s–%(high)s months ago")),
    (MONTHS_AGO_ONE, gettext_noop("last order %(n)s months ago")),
    (ORDERS_RANGE, gettext_noop("%(low)s–%(high)s orders")),
    (ORDERS_ONE, gettext_noop("%(n)s orders")),
    (ORDER_SINGLE, gettext_noop("1 order")),
    (SPEND_RANGE, gettext_noop("spend %(low)s–%(high)s")),
)


_NAME_FACTS = tuple((name_part_pattern(t), message) for t, message in _NAME_FACT_MESSAGES)
# Feature names on charts (the classifier's importances), in the owner's words.
_FEATURES: dict[str, str] = {
    "recency_days": gettext_noop("days since last order"),
    "frequency": gettext_noop("orders"),
    "monetary": gettext_noop("total spend"),
    "avg_order_value": gettext_noop("average order value"),
    "tenure_days": gettext_noop("days since first order"),
    "mean_days_between_orders": gettext_noop("days between orders"),
    "return_rate": gettext_noop("return rate"),
}

_NUMBER = r"-?(?:[\d,]+(?:\.\d+)?|nan|inf)"

# ------------------------------------------------------------------ segment names

_DUPLICATE = re.compile(r"^(?P<name>.+) \((?P<n>\d+)\)$")
# The name segments/selectors.py gives a cluster key it has no stored name for.
_DEFAULT_CLUSTER = re.compile(r"^Cluster (?P<n>\d+)$")


def _generated_cluster_name(name: str) -> str | None:
    if name == UNNAMED_CLUSTER:
        return gettext("Typical customers")
    default = _DEFAULT_CLUSTER.match(name)
    if default:
        return gettext("Cluster %(n)s") % {"n": default["n"]}
    if not name:
        return None
    words = (name[0].lower() + name[1:]).split(NAME_SEPARATOR)
    if name[0].upper() + name[1:] != name:  # the analysis capitalises the first letter
        return None
    translated = [_name_part(w) for w in words]
    if any(t is None for t in translated):
        return None
    if translated == words:  # English: keep the analysis' own capitalisation
        return name
    return join(JOIN_WORDS, translated)


def _name_part(word: str) -> str | None:
    if word in _NAME_WORDS:
        return gettext(_NAME_WORDS[word])
    for pattern, message in _NAME_FACTS:
        match = pattern.match(word)
        if match:
            return gettext(message) % match.groupdict()
    return None


def cluster_name(name: str) -> str:
    """A generated cluster name ("Recent, frequent, high spend", "Typical customers (2)",
    "Cluster 3") in the active language; any other text as it is."""
    generated = _generated_cluster_name(name)
    if generated is not None:
        return generated
    duplicate = _DUPLICATE.match(name)  # the refresh numbers a repeated name: "... (2)"
    if duplicate:
        generated = _generated_cluster_name(duplicate["name"])
        if generated is not None:
            return gettext("%(name)s (%(n)s)") % {"name": generated, "n": duplicate["n"]}
    return name


# ------------------------------------------------------------------ descriptions

_RFM_DESCRIPTION_SET = frozenset(RFM_DESCRIPTIONS + _OLDER_RFM_DESCRIPTIONS)
_SENTENCE_PATTERNS: dict[str, re.Pattern[str]] = {
    column: re.compile(rf"^{re.escape(label)} (?P<value>{_NUMBER}){re.escape(unit)}"
                       rf" \(median (?P<median>{_NUMBER})\)$")
    for column, (label, unit) in FRIENDLY_NAMES.items()
}


def _by_feature(text: str, patterns: dict[str, re.Pattern[str]], messages: dict[str, str]) -> str | None:
    """``text`` as the message of the feature whose English pattern it matches, or None."""
    for column, pattern in patterns.items():
        match = pattern.match(text)
        if match:
            return gettext(messages[column]) % match.groupdict()
    return None


def _sentence(text: str) -> str | None:
    return _by_feature(text, _SENTENCE_PATTERNS, _SENTENCES)


def segment_description(text: str) -> str:
    """An RFM segment's or a cluster's stored description in the active language."""
    if text in _RFM_DESCRIPTION_SET:
        return gettext(text)
    if text.startswith(DESCRIPTION_PREFIX) and text.endswith("."):
        parts = text[len(DESCRIPTION_PREFIX):-1].split(DESCRIPTION_SEPARATOR)
        sentences = [s for s in map(_sentence, parts) if s is not None]
        if len(sentences) < len(parts):
            return text
        facts = join(JOIN_FACTS, sentences)
        return gettext("Typical member: %(facts)s.") % {"facts": facts}
    # A cluster with nothing to say about its members is described by its name.
    return cluster_name(text)


# ------------------------------------------------------------------ customer notes

# Typed notes (segments.analysis.rfm.Note) become words here, when a page renders;
# nothing about them is stored as English. Each message states the fact it was
# built from, so the words can be no truer or falser than the facts.
_NOTE_MESSAGES: dict[str, str] = {
    # Not "only returns or refunds": an order of 0.00 is no purchase and no refund either.
    "no_purchase": gettext_noop("have no paid order on record"),
    "last_bought_days": gettext_noop("last bought %(days)s days ago"),
    "not_for_over_a_year": gettext_noop(
        "have not bought for over a year (%(days)s days)"),
    "bought_once": gettext_noop("have bought once"),
    "bought_times": gettext_noop("have bought %(orders)s times"),
    "bought_often": gettext_noop("buy often: %(orders)s orders"),
    "spent": gettext_noop("spent %(money)s in total"),
    "spent_nothing_net": gettext_noop("spent %(money)s after returns and refunds"),
}


# The notes that can speak of a single day: "1 day ago", never "1 days ago" (a last
# purchase over 30 days ago never is one day). Chosen by "count", the days as a number.
# Second of each pair: counted to an earlier day than today, as below.
_DAY_NOTES = {
    "bought_recently": (
        ngettext_lazy("bought recently, %(days)s day ago",
                      "bought recently, %(days)s days ago", "count"),
        ngettext_lazy("bought recently, %(days)s day before %(date)s",
                      "bought recently, %(days)s days before %(date)s", "count")),
    "last_order_days": (
        ngettext_lazy("their last order was %(days)s day ago",
                      "their last order was %(days)s days ago", "count"),
        ngettext_lazy("their last order was %(days)s day before %(date)s",
                      "their last order was %(days)s days before %(date)s", "count")),
}

# The other notes when the run's day count ends before today (an export read later):
# "400 days ago" would be untrue beside the order's date, so they name the day instead.
_NOTE_MESSAGES_BEFORE: dict[str, str] = {
    "last_bought_days": gettext_noop("last bought %(days)s days before %(date)s"),
    "not_for_over_a_year": gettext_noop(
        "had not bought for over a year by %(date)s (%(days)s days)"),
}


def _money(cents: int) -> str:
    # The shop's currency, written the reader's way, as everywhere else on the page.
    return format_money(Decimal(cents) / 100, shop_profile().currency)


def note_text(note: Note, counted_to: date | None = None) -> str:
    """One note as a clause in the active language; days are "ago" unless `counted_to`
    names the earlier day they were counted to (segments.selectors.days_counted_to)."""
    params = dict(note.params)
    if "cents" in params:
        params["money"] = _money(int(params.pop("cents")))
    for key in ("days", "orders"):
        if key in params:
            params[key] = f"{int(params[key]):,}"
    if note.code in _DAY_NOTES:
        message = _DAY_NOTES[note.code][counted_to is not None]
        params["count"] = int(note.params["days"])
    elif counted_to is not None and note.code in _NOTE_MESSAGES_BEFORE:
        message = gettext(_NOTE_MESSAGES_BEFORE[note.code])
    else:
        message = gettext(_NOTE_MESSAGES[note.code])
    if counted_to is not None:
        params["date"] = date_format(counted_to, "DATE_FORMAT")
    return message % params


def customer_reason(score, counted_to: date | None = None) -> str:
    """What a scored customer's facts say, e.g. "last bought 412 days ago; have bought
    once; spent 35.00 in total", in the active language."""
    notes = customer_notes(recency_days=score.recency_days, orders=score.frequency,
                           spend=score.monetary)
    return join(JOIN_FACTS, [note_text(n, counted_to) for n in notes])


# The fact each of customer_notes' notes speaks of, as clustering.claims_untrue
# names them.
_NOTE_FACTS = {
    "no_purchase": "frequency", "last_order_days": "recency_days",
    "bought_recently": "recency_days", "last_bought_days": "recency_days",
    "not_for_over_a_year": "recency_days", "bought_once": "frequency",
    "bought_times": "frequency", "bought_often": "frequency",
    "spent": "monetary", "spent_nothing_net": "monetary",
}


def cluster_unlike_sentence(score, claims: list[dict], counted_to: date | None = None) -> str:
    """Said beside a customer's cluster when its name is not true of them ("Recent,
    frequent" for someone gone 208 days): the facts that differ, in the active language;
    empty when the name holds for them. `claims`: the cluster's stored NameClaims."""
    facts = {"recency_days": score.recency_days, "frequency": score.frequency,
             "monetary": score.monetary}
    untrue = claims_untrue([NameClaim(**claim) for claim in claims], facts)
    if not untrue:
        return ""
    notes = customer_notes(recency_days=score.recency_days, orders=score.frequency,
                           spend=score.monetary)
    differing = [note_text(n, counted_to) for n in notes if _NOTE_FACTS[n.code] in untrue]
    return gettext("Unlike this cluster's typical member, they %(facts)s.") % {
        "facts": join(JOIN_FACTS, differing)}


# ------------------------------------------------------------------ propensity


def _chance(probability: float) -> str:
    # Whole percents, but never 0% or 100% for a chance that is neither (the rule of every
    # share on the pages, in words inside a sentence).
    shown = percent(probability)
    return {"<1%": gettext("under 1%"), ">99%": gettext("over 99%")}.get(shown, shown)


def models_disagree_sentence(*, p_alive: float | None, propensity: float | None,
                             recency_days: float, gap_days: float | None,
                             expected_orders_90: float | None = None) -> str:
    """Said when the two estimates beside each other point opposite ways, so the owner
    reads why instead of a contradiction; empty when they agree or a fact is missing.

    Each sentence is only said when its own facts hold: "silent for much longer than
    their rhythm" needs a gap and a silence over twice it; "orders only every N days"
    needs a gap longer than the 90 days the chance is about. A stopped customer's chance
    is explained when it is high, or above the orders expected in the same 90 days (no
    one model says both: the expected number of orders is at least the chance of one).
    """
    if p_alive is None or propensity is None or not gap_days:
        return ""
    facts = {"gap": f"{gap_days:,.0f}", "days": f"{math.floor(recency_days):,}",
             "chance": _chance(float(propensity))}
    above_expected = expected_orders_90 is not None and propensity > expected_orders_90
    # "Probably stopped" holds below an even chance of being alive; a 14% chance to order
    # beside "0.0 expected orders" needs the words at any such P(alive), a high chance
    # only when P(alive) is very low (in between, the two are not far apart).
    stopped = (p_alive < 0.5 and above_expected) or (p_alive < 0.1 and propensity >= 0.3)
    if stopped and recency_days > 2 * gap_days:
        return gettext("The two estimates look at different things. By their own rhythm (an "
                       "order about every %(gap)s days, none for %(days)s days) they have "
                       "probably stopped; a model trained on customers with numbers like theirs "
                       "still gives them a %(chance)s chance of ordering within 90 days.") % facts
    if p_alive >= 0.9 and propensity < 0.1 and gap_days > 90:
        return gettext("Both can be true: they are probably still a customer, but one who "
                       "orders about every %(gap)s days, so an order within the next 90 days "
                       "is unlikely.") % facts
    return ""


def propensity_sentence(probability: float, percent_below: float | None) -> str:
    """"Chance of ordering in the next 90 days: 12% (higher than for 83% of customers)."

    ``percent_below`` is the share of customers with a strictly lower chance
    (analysis.propensity.percent_below); it is rounded down, so the sentence stays true.
    """
    chance = _chance(float(probability))
    if percent_below is None:
        return gettext("Chance of ordering in the next 90 days: %(chance)s.") % {"chance": chance}
    if float(percent_below) <= 0:
        return gettext("Chance of ordering in the next 90 days: %(chance)s (no customer has a "
                       "lower chance).") % {"chance": chance}
    below = math.floor(float(percent_below))
    if below == 0:
        return gettext("Chance of ordering in the next 90 days: %(chance)s (higher than for "
                       "under 1%% of customers).") % {"chance": chance}
    return gettext("Chance of ordering in the next 90 days: %(chance)s (higher than for "
                   "%(below)s%% of customers).") % {"chance": chance, "below": below}


# ------------------------------------------------------------------ rules

# The RFM rule is written by segments/services/refresh.py (_rfm_rule) from the score ranges.
_RFM_RULE = re.compile(r"^R (?P<r>= \d|\d–\d) and average of F and M (?P<fm>= \d|\d–\d)$")
_CONDITION_PATTERNS: dict[str, re.Pattern[str]] = {
    column: re.compile(
        rf"^{re.escape(label)} (?P<op>≤|≥|>) (?P<value>{_NUMBER}){re.escape(unit)}$"
    )
    for column, (label, unit) in FRIENDLY_NAMES.items()
}


def _condition(text: str) -> str | None:
    return _by_feature(text, _CONDITION_PATTERNS, _CONDITIONS)


def segment_rule(text: str) -> str:
    """A segment's stored rule ("orders ≥ 4 and last order ≤ 30 days ago",
    "R = 5 and average of F and M 4–5") in the active language."""
    if text == RULE_FOR_EVERYONE:
        return gettext("all customers")
    rfm = _RFM_RULE.match(text)
    if rfm:
        return gettext("R %(r)s and average of F and M %(fm)s") % rfm.groupdict()
    parts = text.split(RULE_SEPARATOR)
    conditions = [c for c in map(_condition, parts) if c is not None]
    if not text or len(conditions) < len(parts):
        return text
    return join(JOIN_CONDITIONS, conditions)


# ------------------------------------------------------------------ run notes

# Sentences the analysis writes about a run (how k was chosen, why a model was or
# was not fitted). A note is one or more of them separated by single spaces.
_NOTE_SENTENCES: tuple[tuple[re.Pattern[str], str | Callable[[dict], str]], ...] = tuple(
    (re.compile(pattern), message) for pattern, message in (
        # segments/analysis/clustering.py choose_k
        (r"Only (?P<n>[\d,]+) customers \((?P<distinct>[\d,]+) distinct\); using k=(?P<k>\d+)\.",
         lambda facts: ngettext("Only %(n)s customer (%(distinct)s distinct); using k=%(k)s.",
                                "Only %(n)s customers (%(distinct)s distinct); using k=%(k)s.",
                                _count(facts["n"])) % facts),
        # Runs before 2026-12-07 stored "among k with clusters >= 2%".
        ((r"k=(?P<k>\d+) has the best silhouette \((?P<silhouette>-?[\d.]+)\) among (?:the )?k "
          r"(?:with|whose) clusters (?:>= |each hold at least )(?P<share>\d+%)(?: of customers)?\."),
         gettext_noop("k=%(k)s has the best silhouette (%(silhouette)s) among the k whose "
                      "clusters each hold at least %(share)s of customers.")),
        ((r"k=(?P<k>\d+) has a silhouette \((?P<silhouette>-?[\d.]+)\) within (?P<tie>[\d.]+) of "
          r"the best \((?P<best>-?[\d.]+)\) among (?:the )?k (?:with|whose) clusters "
          r"(?:>= |each hold at least )(?P<share>\d+%)(?: of customers)?; the "
          r"fewest clusters win a tie\."),
         gettext_noop("k=%(k)s has a silhouette (%(silhouette)s) within %(tie)s of the best "
                      "(%(best)s) among the k whose clusters each hold at least %(share)s of "
                      "customers; the fewest clusters win a tie.")),
        ((r"Every k left a cluster under (?P<share>\d+%) of customers; using the smallest, "
          r"k=(?P<k>\d+)\."),
         gettext_noop("Every k left a cluster under %(share)s of customers; using the "
                      "smallest, k=%(k)s.")),
        # segments/services/refresh.py, around choose_k
        (r"You chose k=(?P<k>\d+)\.", gettext_noop("You chose k=%(k)s.")),
        (r"Only (?P<distinct>[\d,]+) distinct customers, so k=(?P<k>\d+)\.",
         lambda facts: ngettext("Only %(distinct)s distinct customer, so k=%(k)s.",
                                "Only %(distinct)s distinct customers, so k=%(k)s.",
                                _count(facts["distinct"])) % facts),
        (r"Silhouette measured on a random sample of (?P<n>[\d,]+) customers\.",
         gettext_noop("Silhouette measured on a random sample of %(n)s customers.")),
        # segments/analysis/clv.py
        ((r"Only (?P<repeat>[\d,]+) customers have bought on more than one day; at least "
          r"(?P<minimum>[\d,]+) are needed to estimate lifetime value\."),
         lambda facts: _repeat_buyers_sentence(**facts)),
        (r"The value models found no stable fit for these orders, so no value is estimated\.",
         gettext_noop("The value models found no stable fit for these orders, so no value "
                      "is estimated.")),
        (r"Fitted on (?P<n>[\d,]+) customers, (?P<repeat>[\d,]+) of them repeat buyers\.",
         gettext_noop("Fitted on %(n)s customers, %(repeat)s of them repeat buyers.")),
        # segments/analysis/baskets.py choose_min_support: how the rule threshold was found
        (r"no baskets to mine", gettext_noop("no baskets to mine")),
        ((r"(?P<rules>\d+) rules at support (?P<support>[\d.e+-]+) \((?P<count>\d+) orders\), "
          r"within the target of (?P<low>\d+)–(?P<high>\d+)"),
         gettext_noop("%(rules)s rules at support %(support)s (%(count)s orders), within the "
                      "target of %(low)s–%(high)s")),
        ((r"(?P<rules>\d+) rules at support (?P<support>[\d.e+-]+) \((?P<count>\d+) orders; "
          r"found between ladder steps\), within the target of (?P<low>\d+)–(?P<high>\d+)"),
         gettext_noop("%(rules)s rules at support %(support)s (%(count)s orders; found between "
                      "ladder steps), within the target of %(low)s–%(high)s")),
        ((r"only (?P<rules>\d+) rules even at the floor of (?P<floor>\d+) orders per itemset "
          r"\(support (?P<support>[\d.e+-]+)\); fewer than the target of (?P<low>\d+)"),
         gettext_noop("only %(rules)s rules even at the floor of %(floor)s orders per itemset "
                      "(support %(support)s); fewer than the target of %(low)s")),
        ((r"only (?P<rules>\d+) rules at the lowest support tried "
          r"\((?P<support>[\d.e+-]+), (?P<count>\d+) orders\)"),
         gettext_noop("only %(rules)s rules at the lowest support tried (%(support)s, "
                      "%(count)s orders)")),
        ((r"(?P<rules>\d+) rules at (?P<count>\d+) orders; one order fewer gives more than "
          r"(?P<high>\d+), so no threshold hits (?P<low>\d+)–(?P=high) exactly"),
         gettext_noop("%(rules)s rules at %(count)s orders; one order fewer gives more than "
                      "%(high)s, so no threshold hits %(low)s–%(high)s exactly")),
        ((r"(?P<rules>\d+) rules at (?P<count>\d+) orders; one order more gives fewer than "
          r"(?P<low>\d+), so no threshold hits (?P=low)–(?P<high>\d+) exactly"),
         gettext_noop("%(rules)s rules at %(count)s orders; one order more gives fewer than "
                      "%(low)s, so no threshold hits %(low)s–%(high)s exactly")),
        # segments/analysis/propensity.py, and refresh.py when it gives no reason
        (r"Training period has only buyers or only non-buyers\.",
         gettext_noop("Training period has only buyers or only non-buyers.")),
        (r"Evaluation period has only buyers or only non-buyers\.",
         gettext_noop("Evaluation period has only buyers or only non-buyers.")),
        (r"Not enough history\.", gettext_noop("Not enough history.")),
        # segments/services/refresh.py and selectors.py
        (r"Too few customers or clusters to train on\.",
         gettext_noop("Too few customers or clusters to train on.")),
        (r"No analysis has run yet\.", gettext_noop("No analysis has run yet.")),
    )
)


def _count(number: str) -> int:
    return int(number.replace(",", ""))


def _repeat_buyers_sentence(*, repeat: str, minimum: str) -> str:
    # The analysis writes "Only 1 customers"; the page says one, many, or none.
    count = _count(repeat)
    facts = {"repeat": repeat, "minimum": minimum}
    if count == 0:
        return gettext("No customer has bought on more than one day; at least %(minimum)s are "
                       "needed to estimate lifetime value.") % facts
    return ngettext("Only %(repeat)s customer has bought on more than one day; at least "
                    "%(minimum)s are needed to estimate lifetime value.",
                    "Only %(repeat)s customers have bought on more than one day; at least "
                    "%(minimum)s are needed to estimate lifetime value.", count) % facts


def _grouped(value: str | None) -> str | None:
    # Counts in notes written before they had separators ("Fitted on 26573 customers").
    return f"{int(value):,}" if value and value.isdigit() else value


def run_note(text: str) -> str:
    """A run's computed note (k reason, CLV reason, skipped model) in the active language."""
    position, sentences = 0, []
    while position < len(text):
        for pattern, message in _NOTE_SENTENCES:
            match = pattern.match(text, position)
            if match:
                facts = {k: _grouped(v) for k, v in match.groupdict().items()}
                sentences.append(message(facts) if callable(message) else gettext(message) % facts)
                position = match.end()
                if text.startswith(" ", position):
                    position += 1
                break
        else:
            return text
    return join(JOIN_SENTENCES, sentences) if sentences else text


# ------------------------------------------------------------------ charts


def feature_label(column: str) -> str:
    """A feature column's name on a chart; an unknown column with spaces for underscores."""
    label = _FEATURES.get(column)
    return gettext(label) if label is not None else column.replace("_", " ")


# ------------------------------------------------------------------ basket rules


def _product_list(product_ids, names) -> str:
    labels = [names.get(int(p)) or gettext("product %(id)s") % {"id": int(p)} for p in product_ids]
    if len(labels) == 1:
        return labels[0]
    # Translators: the last product of a list, e.g. "Tea Pot, Tea Cups and Honey".
    return gettext("%(items)s and %(last)s") % {
        "items": join(JOIN_WORDS, labels[:-1]), "last": labels[-1]}


def _lift_phrase(lift: float) -> str:
    # Within 5% of 1 the rule says nothing beyond "they are popular"; say so plainly.
    if lift >= 1.05:
        return gettext("%(lift)s× more often than average") % {"lift": f"{lift:.1f}"}
    if lift > 0.95:
        return gettext("about as often as average")
    return gettext("%(lift)s× as often as average") % {"lift": f"{lift:.1f}"}


def rule_sentence(rule, names, segment_name: str | None = None) -> str:
    """A basket rule in one plain sentence, in the active language.

    "Customers who bought Tea Pot and Tea Cups also bought Tea Strainer in 62% of their
    orders (3.1× more often than average; 48 orders)." With a segment name: "At Risk
    customers who bought ..."; the verb becomes "usually buy" only when the confidence is
    at least 50%, so the sentence never overstates a weaker rule. ``rule`` is a mapping
    (or a row of the mined rules frame) with antecedents, consequents, confidence, lift
    and order_count; unknown product ids read as "product <id>".
    """
    orders = int(rule["order_count"])
    confidence = float(rule["confidence"])
    facts = {
        "antecedents": _product_list(rule["antecedents"], names),
        "consequents": _product_list(rule["consequents"], names),
        "percent": percent(confidence),  # 99.7% is ">99%", never a certain "100%"
        "evidence": gettext("%(lift)s; %(orders)s") % {
            "lift": _lift_phrase(float(rule["lift"])),
            "orders": ngettext("%(n)s order", "%(n)s orders", orders) % {"n": f"{orders:,}"},
        },
        "segment": segment_name,
    }
    if not segment_name:
        return gettext("Customers who bought %(antecedents)s also bought %(consequents)s in "
                       "%(percent)s of their orders (%(evidence)s).") % facts
    if confidence >= 0.5:
        return gettext("%(segment)s customers who bought %(antecedents)s usually buy "
                       "%(consequents)s: %(percent)s of their orders (%(evidence)s).") % facts
    return gettext("%(segment)s customers who bought %(antecedents)s also bought "
                   "%(consequents)s in %(percent)s of their orders (%(evidence)s).") % facts
