from django import forms
from django.utils.translation import gettext_lazy as _

from ingest.import_formats import format_choices
from ingest.models import ImportKind
from ingest.pipeline.mapping import FIELDS

FIELD_LABELS = {
    "customer_email": _("Customer email"), "customer_id": _("Customer id (shop's)"),
    "customer_name": _("Customer full name"), "first_name": _("First name"),
    "last_name": _("Last name"), "order_id": _("Order id"), "ordered_at": _("Order date"),
    "product_sku": _("Product SKU"), "product_name": _("Product name"), "category": _("Category"),
    "quantity": _("Quantity"), "unit_price": _("Unit price"), "line_total": _("Line total"),
    "order_total": _("Order total"), "currency": _("Currency"), "country": _("Country"),
    "city": _("City"), "accepts_marketing": _("Accepts marketing"),
    "cancelled_at": _("Cancelled at"), "refunded_amount": _("Refunded amount"),
    "financial_status": _("Payment status"), "gender": _("Gender"), "birth_year": _("Birth year"),
}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_(".csv, .tsv, .txt, .csv.gz or .zip"))
    kind = forms.ChoiceField(label=_("What is in it"), choices=ImportKind.choices,
                             initial=ImportKind.ORDERS)


class MappingForm(forms.Form):
    DATE_ORDER = [("", _("Detect")), ("dayfirst", _("Day first (31/12/2024)")),
                  ("monthfirst", _("Month first (12/31/2024)"))]

    DECIMAL_MARK = [("", _("Detect")), ("point", _("Point (1,234.50)")),
                    ("comma", _("Comma (1.234,50)"))]

    preset = forms.ChoiceField(label=_("Format"), choices=format_choices)
    date_order = forms.ChoiceField(label=_("Date order"), choices=DATE_ORDER, required=False)
    decimal_mark = forms.ChoiceField(label=_("Decimal mark"), choices=DECIMAL_MARK, required=False)
    remember = forms.BooleanField(label=_("Remember this mapping for files with these columns"),
                                  required=False, initial=True)
    identical_rows = forms.ChoiceField(
        label=_("Identical rows"), widget=forms.RadioSelect, initial="drop", required=False,
        choices=[("drop", _("The same line exported twice: drop the copies")),
                 ("keep", _("Separate purchases: keep every one"))])

    def __init__(self, *args, headers: list[str], has_order_id: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if has_order_id:  # a repeat is then another line of its order, not a purchase
            self.fields["identical_rows"].choices = [
                ("drop", _("The same line exported twice: drop the copies")),
                ("keep", _("Lines of the same order: keep every one (their quantities add up)"))]
        choices = [("", "—")] + [(h, h) for h in headers]
        for name in FIELDS:
            self.fields[f"field_{name}"] = forms.ChoiceField(
                label=FIELD_LABELS.get(name, name), choices=choices, required=False)

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"field_{name}") or "" for name in FIELDS}

    def dayfirst(self) -> bool | None:
        return {"dayfirst": True, "monthfirst": False}.get(self.cleaned_data.get("date_order") or "")

    def decimal_comma(self) -> bool | None:
        return {"comma": True, "point": False}.get(self.cleaned_data.get("decimal_mark") or "")
