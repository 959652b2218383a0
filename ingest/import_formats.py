"""The import formats' names as an owner reads them; the pipeline knows them by key.

Brand and plugin names stay as their makers write them; only the words around them
are translated.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ingest.pipeline.mapping import PRESETS_BY_NAME

FORMAT_LABELS: dict[str, str | Promise] = {
    "shopify": "Shopify",
    "uci_online_retail": "UCI Online Retail",
    "uci_online_retail_ii": "UCI Online Retail II",
    "woocommerce": _("WooCommerce (Customer/Order CSV Export)"),
    "woocommerce_advanced_order_export": _("WooCommerce (Advanced Order Export)"),
    "etsy_sold_order_items": _("Etsy (Sold Order Items)"),
    "etsy_sold_orders": _("Etsy (Sold Orders)"),
    "stripe_payments": _("Stripe (payments)"),
    "square_item_details": _("Square (item details)"),
    "square_transactions": _("Square (transactions)"),
    "amazon_order_report": _("Amazon (Order Report)"),
    "amazon_all_orders": _("Amazon (All Orders)"),
    "paypal_activity": _("PayPal (activity download)"),
    "ebay_orders": _("eBay (orders report)"),
    "generic": _("Spreadsheet (any columns)"),
}


def format_label(key: str | None) -> str | Promise:
    key = key or "generic"
    return FORMAT_LABELS.get(key, key)


def format_choices() -> list[tuple[str, str | Promise]]:
    return [(key, format_label(key)) for key in PRESETS_BY_NAME]
