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


class RenameSegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Empty restores the computed name."))
