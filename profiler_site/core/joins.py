"""Lists and sentences joined the reader's way ("a, b" / "a、b"; "One. Two." / "一。二。").

Joined through templates rather than separators: a Chinese sentence follows another
with no space, which an (empty) separator cannot say.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext, gettext_noop

# Translators: joins the words of a list or a cluster name, e.g. "recent, frequent".
JOIN_WORDS = gettext_noop("%(first)s, %(second)s")
# Translators: joins the facts of a cluster description.
JOIN_FACTS = gettext_noop("%(first)s; %(second)s")
# Translators: joins the conditions of a segment rule, e.g. "orders ≥ 4 and ...".
JOIN_CONDITIONS = gettext_noop("%(first)s and %(second)s")
# Translators: two whole sentences one after the other.
JOIN_SENTENCES = gettext_noop("%(first)s %(second)s")


def join(template: str, parts: Sequence[str]) -> str:
    """`parts` joined pairwise by the translated `template` ("" for no parts)."""
    if not parts:
        return ""
    joined = str(parts[0])
    for part in parts[1:]:
        joined = gettext(template) % {"first": joined, "second": str(part)}
    return joined
