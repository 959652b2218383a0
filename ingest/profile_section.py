"""The "this customer's data" section on the customer profile (registered with the kernel)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from ingest.models import Customer
from ingest.services.privacy import customer_is_erased


def customer_privacy_section(request: HttpRequest, customer_id: int) -> str:
    customer = Customer.objects.only("key").filter(pk=customer_id).first()
    if customer is None:
        return ""
    return render_to_string("ingest/_customer_privacy.html", {
        "customer_id": customer_id, "erased": customer_is_erased(customer)}, request=request)
