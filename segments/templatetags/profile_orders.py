"""`{{ row.products|product_list }}`: an order's products on one line, "Beans ×2, Filters".

Joined in Python rather than a template loop: a profile page lists 50 orders of a
dozen products each, and the loop's nodes were half the page's rendering time.
A long basket shows its first few and folds the rest behind "and N more", so a
household's weekly shop does not make each row a paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from segments.selectors import OrderedProduct

register = template.Library()

SHOWN = 4


def _joined(products: Sequence[OrderedProduct]) -> SafeString:
    # format_html_join escapes each name; the separator is plain text.
    return format_html_join(", ", "{}{}", ((p.name, "" if p.quantity == 1 else f" ×{p.quantity}")
                                           for p in products))


@register.filter
def product_list(products: Sequence[OrderedProduct]) -> SafeString:
    products = list(products)
    if len(products) <= SHOWN + 1:  # "and 1 more" would hide no more than it takes to say
        return _joined(products)
    rest = products[SHOWN:]
    more = ngettext("and %(n)s more", "and %(n)s more", len(rest)) % {"n": len(rest)}
    return format_html('{}<details class="more"><summary>{}</summary>{}</details>',
                       _joined(products[:SHOWN]), more, _joined(rest))
