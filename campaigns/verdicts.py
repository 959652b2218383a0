"""The campaign analysis results worded for people, in the active language.

``analysis/lift.py`` and ``analysis/power.py`` stay free of Django and return
numbers plus a kind (``VerdictKind``, ``DetectableKind``); this module turns them
into sentences with gettext and Django's number formatting, so a Chinese-speaking
owner reads the same honest caveats as an English-speaking one. Call these while
the reader's language is active (a request, or ``translation.override``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext, gettext_lazy, ngettext

from campaigns.analysis.lift import (
    FISHER_TEST,
    KATZ_INTERVAL,
    MIN_GROUP_SIZE,
    NEWCOMBE_INTERVAL,
    WELCH_TEST,
    Z_TEST,
    ConversionLift,
    VerdictKind,
)
from campaigns.analysis.power import DetectableKind, DetectableLift

# The analysis names its methods in English (the API returns those names as they
# are); the msgids are the same English names so a translator can keep or render them.
METHOD_NAMES = {
    Z_TEST: gettext_lazy("two-proportion z-test"),
    FISHER_TEST: gettext_lazy("Fisher's exact test"),
    WELCH_TEST: gettext_lazy("Welch's t-test"),
    NEWCOMBE_INTERVAL: gettext_lazy("Newcombe hybrid score interval"),
    KATZ_INTERVAL: gettext_lazy("Katz log risk-ratio interval"),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class LiftText:
    """What the report card shows in words next to the lift numbers."""

    verdict: str
    test_name: str
    p_value: str
    absolute_ci_method: str
    relative_ci_method: str


def method_name(name: str) -> str:
    """A test or interval name in the active language; an unknown name is shown as is."""
    return str(METHOD_NAMES.get(name, name))


def p_value_text(p_value: float) -> str:
    """``p < 0.001``, ``p = 0.004``, ``p = 0.05``: notation both languages share."""
    if p_value < 0.001:
        return f"p < {_decimal(0.001, 3)}"
    if p_value < 0.01:
        return f"p = {_decimal(p_value, 3)}"
    return f"p = {_decimal(p_value, 2)}"


def lift_text(lift: ConversionLift) -> LiftText:
    return LiftText(
        verdict=verdict_sentence(lift),
        test_name=method_name(lift.test_name),
        p_value=p_value_text(lift.p_value),
        absolute_ci_method=method_name(lift.absolute_ci_method),
        relative_ci_method=method_name(lift.relative_ci_method),
    )


def groups_big_enough(lift: ConversionLift) -> bool:
    """Whether a small-sample result comes from few buyers rather than small groups."""
    return min(lift.treated_n, lift.holdout_n) >= MIN_GROUP_SIZE


def verdict_sentence(lift: ConversionLift) -> str:
    """E.g. "The email likely increased purchases: +2.0 points (95% CI 0.5 to 3.2), p = 0.010." """
    kind = lift.verdict_kind
    if kind == VerdictKind.TOO_FEW:
        # Both groups big enough, but too few of them bought: the groups are not the
        # problem, and "too few people" beside "999 emailed" would read as false.
        message = (gettext("Too few purchases to tell yet: %(counts)s; %(test)s %(p_value)s. "
                           "Wait for more orders or send to a larger segment.")
                   if groups_big_enough(lift) else
                   gettext("Too few people to tell yet: %(counts)s; %(test)s %(p_value)s. "
                           "Wait for more orders or send to a larger segment."))
        return message % {
            "counts": _counts(lift),
            "test": method_name(lift.test_name),
            "p_value": p_value_text(lift.p_value),
        }
    if kind == VerdictKind.INCREASED:
        return gettext("The email likely increased purchases: %(effect)s.") % {
            "effect": _effect(lift)
        }
    if kind == VerdictKind.REDUCED:
        return gettext("The email likely reduced purchases: %(effect)s.") % {
            "effect": _effect(lift)
        }
    return gettext(
        "No detectable difference: %(effect)s. %(counts)s; "
        "the true effect could be anywhere in that interval, including zero."
    ) % {"effect": _effect(lift), "counts": _counts(lift)}


def detectable_lift_sentence(result: DetectableLift) -> str:
    """E.g. "With 1,200 recipients and a 10% holdout you can detect a lift of about 8.1
    points (from 5.0% to 13.1% buying within 7 days) at 95% confidence with 80% power."

    When the report could not call any lift (a group under its minimum, or too few
    buyers expected for its test), it says so and names the audience needed instead.
    """
    n = result.audience_size
    values = {
        "count": intcomma(n),
        "holdout": _percent(result.holdout_share, 0),
        "confidence": _percent(result.confidence, 0),
        "power": _percent(result.power, 0),
    }
    if result.kind == DetectableKind.NO_HOLDOUT:
        sentence = ngettext(
            "With %(count)s recipient and a %(holdout)s holdout nobody is held out, "
            "so the email's effect cannot be measured.",
            "With %(count)s recipients and a %(holdout)s holdout nobody is held out, "
            "so the email's effect cannot be measured.",
            n,
        ) % values
    elif result.kind == DetectableKind.BELOW_MINIMUM:
        sentence = ngettext(
            "With %(count)s recipient and a %(holdout)s holdout only %(held)s would be held "
            "out; the report needs at least %(minimum)s in each group to compare them, so it "
            "would answer “too few to tell”.",
            "With %(count)s recipients and a %(holdout)s holdout only %(held)s would be held "
            "out; the report needs at least %(minimum)s in each group to compare them, so it "
            "would answer “too few to tell”.",
            n,
        ) % (values | {"held": intcomma(result.holdout_n), "minimum": MIN_GROUP_SIZE})
    elif result.kind == DetectableKind.TOO_SMALL:
        sentence = ngettext(
            "With %(count)s recipient and a %(holdout)s holdout the groups are too small "
            "to detect any lift at %(confidence)s confidence.",
            "With %(count)s recipients and a %(holdout)s holdout the groups are too small "
            "to detect any lift at %(confidence)s confidence.",
            n,
        ) % values
    else:
        sentence = ngettext(
            "With %(count)s recipient and a %(holdout)s holdout you can detect a lift of about "
            "%(points)s points (from %(baseline)s to %(target)s buying within 7 days) "
            "at %(confidence)s confidence with %(power)s power.",
            "With %(count)s recipients and a %(holdout)s holdout you can detect a lift of about "
            "%(points)s points (from %(baseline)s to %(target)s buying within 7 days) "
            "at %(confidence)s confidence with %(power)s power.",
            n,
        ) % (values | {
            "points": _decimal(result.lift_points, 1),
            "baseline": _percent(result.baseline_rate, 1),
            "target": _percent(result.target_rate, 1),
        })
    if result.kind != DetectableKind.DETECTABLE:
        if result.audience_needed is None:  # no holdout share: no audience would do
            return sentence
        # Translators: appended to the previous sentence; keep the leading space
        # if your language puts one between sentences.
        needed = gettext(" To detect a lift of %(points)s points (from %(baseline)s to %(target)s buying within 7 days) at %(confidence)s confidence with %(power)s power, the audience needs at least %(needed)s customers.")  # fmt: skip
        sentence += needed % (values | {
            "points": _decimal(result.reference_lift_points, -1),  # "5", or "2.5"
            "baseline": _percent(result.baseline_rate, 1),
            "target": _percent(result.baseline_rate + result.reference_lift_points / 100, 1),
            "needed": intcomma(result.audience_needed),
        })
    if result.baseline_assumed:
        # The msgid starts on the gettext line, or xgettext drops the translators' comment.
        # Translators: appended to the previous sentence; keep the leading space
        # if your language puts one between sentences.
        assumed = gettext(" The %(baseline)s starting rate is assumed: this segment has no purchase history yet.")  # fmt: skip
        sentence += assumed % {"baseline": _percent(result.baseline_rate, 0)}
    return sentence


def _counts(lift: ConversionLift) -> str:
    return ngettext(
        "%(bought)s of %(count)s emailed customer bought (%(rate)s) "
        "vs %(held_bought)s of %(held_count)s held out (%(held_rate)s)",
        "%(bought)s of %(count)s emailed customers bought (%(rate)s) "
        "vs %(held_bought)s of %(held_count)s held out (%(held_rate)s)",
        lift.treated_n,
    ) % {
        "bought": intcomma(lift.treated_conversions),
        "count": intcomma(lift.treated_n),
        "rate": _percent(lift.treated_rate, 1),
        "held_bought": intcomma(lift.holdout_conversions),
        "held_count": intcomma(lift.holdout_n),
        "held_rate": _percent(lift.holdout_rate, 1),
    }


def _effect(lift: ConversionLift) -> str:
    return gettext("%(lift)s points (%(confidence)s CI %(low)s to %(high)s), %(p_value)s") % {
        "lift": _signed(lift.absolute_lift_points, 1),
        "confidence": _percent(lift.confidence, 0),
        "low": _decimal(lift.absolute_lift_ci_points.low, 1),
        "high": _decimal(lift.absolute_lift_ci_points.high, 1),
        "p_value": p_value_text(lift.p_value),
    }


def _decimal(value: float, places: int) -> str:
    # floatformat, as the templates use: rounded (not truncated), grouped, localised.
    text = str(floatformat(value, f"{places}g"))
    # floatformat prints -0.004 as "0.0"; an interval starting just below zero must
    # still read as crossing zero, so keep the sign ("-0.0") as Python's format does.
    return f"-{text}" if value < 0 and not text.startswith("-") else text


def _signed(value: float, places: int) -> str:
    text = _decimal(value, places)
    return text if text.startswith("-") else f"+{text}"


def _percent(fraction: float, places: int) -> str:
    return f"{_decimal(100 * fraction, places)}%"
