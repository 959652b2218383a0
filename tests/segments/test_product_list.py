"""An order's products in a profile: a short basket whole, a long one folded after four."""

from __future__ import annotations

import re

from django.utils import translation

from segments.selectors import OrderedProduct
from segments.templatetags.profile_orders import product_list


def _products(n: int) -> list[OrderedProduct]:
    return [OrderedProduct(name=f"Tea <{i}>", quantity=1 + i % 3) for i in range(n)]


def _names(html: str) -> list[str]:
    return re.findall(r"Tea &lt;(\d+)&gt;", html)


def test_a_short_basket_is_listed_whole_and_escaped():
    html = product_list(_products(5))

    assert _names(html) == ["0", "1", "2", "3", "4"]
    assert "<details" not in html and "Tea <" not in html
    assert html.startswith("Tea &lt;0&gt;, Tea &lt;1&gt; ×2, Tea &lt;2&gt; ×3")


def test_a_long_basket_shows_four_and_folds_the_rest_without_losing_any():
    html = product_list(_products(12))

    shown, folded = html.split("<details", 1)
    assert _names(shown) == ["0", "1", "2", "3"]
    assert "and 8 more" in folded
    assert _names(folded) == [str(i) for i in range(4, 12)]


def test_the_fold_speaks_chinese():
    with translation.override("zh-hans"):
        html = product_list(_products(9))

    assert "and 5 more" not in html
    assert "5" in re.search(r"<summary>(.*?)</summary>", html).group(1)
