"""Extension points of the kernel: lets an app add to another app's page without importing it.

`campaigns` adds a campaign-history section to the customer profile that
`segments` renders; neither imports the other, both import the kernel.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

CustomerSection = Callable[[HttpRequest, int], str]
_customer_profile_sections: list[CustomerSection] = []


def register_customer_profile_section(section: CustomerSection) -> CustomerSection:
    if section not in _customer_profile_sections:
        _customer_profile_sections.append(section)
    return section


def customer_profile_sections(request: HttpRequest, customer_id: int) -> list[str]:
    """Rendered HTML (already safe) of every registered section, in registration order."""
    return [html for section in _customer_profile_sections if (html := section(request, customer_id))]
