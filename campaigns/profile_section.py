"""The campaign history section on the customer profile (registered with the kernel)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from campaigns.selectors import customer_campaign_history


def customer_campaign_section(request: HttpRequest, customer_id: int) -> str:
    rows = customer_campaign_history(customer_id)
    if not rows:
        return ""
    return render_to_string("campaigns/_customer_history.html", {"rows": rows}, request=request)
