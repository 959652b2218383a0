"""`{{ job.preset|format_label }}`: "Shopify", "Spreadsheet (any columns)"."""

from __future__ import annotations

from django import template

from ingest import import_formats

register = template.Library()
register.filter("format_label", import_formats.format_label)
