"""Translatable names of computed segments.

The pure analysis (segments/analysis/) names segments in English and imports no
Django. RFM segment names are fixed: these markers put them in the translation
catalogue. Cluster names are generated from a small word list: segments.computed_text
reads them back word by word. `translated_name` shows either in the user's language.
A name the owner gave a segment never comes here (the selectors look it up first);
any other text shows as it is.
"""

from django.utils.translation import gettext, gettext_noop

from segments.computed_text import cluster_name

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
# The propensity audiences of segments/selectors.py (PROPENSITY_AUDIENCES).
AUDIENCE_NAMES = (
    gettext_noop("Top 10% most likely to buy"),
    gettext_noop("Top 20% most likely to buy"),
)
_CATALOGUED = frozenset(RFM_SEGMENT_NAMES + AUDIENCE_NAMES)


def translated_name(name: str) -> str:
    if name in _CATALOGUED:
        return gettext(name)
    return cluster_name(name)
