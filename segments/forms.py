from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from segments.services.runs import MAX_K, MIN_K


class RefreshForm(forms.Form):
    """Start a refresh; an empty k lets the silhouette choose."""

    k = forms.IntegerField(
        label=_("Number of clusters"), required=False, min_value=MIN_K, max_value=MAX_K,
        help_text=_("Leave empty to choose automatically (best silhouette, 3–8)."),
    )


class RuleSettingsForm(forms.Form):
    """The owner's override of the adaptive rule mining; empty fields stay automatic."""

    min_support = forms.FloatField(
        label=_("Minimum support"), required=False, min_value=0.00001, max_value=0.5,
        help_text=_("Share of all orders a product combination must appear in, e.g. 0.005."),
    )
    min_confidence = forms.FloatField(
        label=_("Minimum confidence"), required=False, min_value=0.01, max_value=1.0,
        help_text=_("How often the second product must follow the first, e.g. 0.2."),
    )
    max_len = forms.IntegerField(
        label=_("Largest combination"), required=False, min_value=2, max_value=5,
        help_text=_("Products per rule, 2 to 5."),
    )

    def settings(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v}


class RenameSegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Empty restores the computed name."))
