"""A share shown as a percentage never rounds to a false "0%" or "100%"."""

from __future__ import annotations

import pytest

from profiler_site.core.templatetags.percent import percent


@pytest.mark.parametrize(("share", "shown"), [
    (0, "0%"), (0.0, "0%"), (0.0001, "<1%"), (0.0049, "<1%"), (0.005, "1%"), (0.244, "24%"),
    (0.5, "50%"), (0.994, "99%"), (0.995, ">99%"), (0.9996, ">99%"), (1, "100%"), (1.0, "100%"),
    (-0.02, "-2%"), (-0.004, "-<1%"), (None, "—"),
])
def test_a_share_is_shown_without_rounding_to_a_false_end(share, shown):
    assert percent(share) == shown
