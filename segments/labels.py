"""Translatable names of computed segments.

The pure analysis (segments/analysis/rfm.py) names RFM segments in English and
imports no Django; these markers put the same names in the translation catalogue,
and `translated_name` shows them in the user's language. A name the owner gave a
segment, or a generated cluster name, is not in the catalogue and shows as it is.
"""

from django.utils.translation import gettext, gettext_noop

RFM_SEGMENT_NAMES = (
    gettext_noop("Champions"),
    gettext_noop("Loyal"),
    gettext_noop("Potential Loyalist"),
    gettext_noop("New"),
    gettext_noop("Promising"),
    gettext_noop("Need Attention"),
    gettext_noop("About to Sleep"),
    gettext_noop("At Risk"),
    gettext_noop("Can't Lose"),
    gettext_noop("Hibernating"),
    gettext_noop("Lost"),
    gettext_noop("All customers"),
)


def translated_name(name: str) -> str:
    return gettext(name) if name else name
