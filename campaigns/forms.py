"""The compose form; the header and merge-tag rules come from the service, not from here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from campaigns.schedule import NonExistentLocalTime, local_to_utc
from campaigns.selectors import AudienceChoice, segment_audience_options
from campaigns.services.campaigns import campaign_problems


def audience_value(kind: str, key: str) -> str:
    return f"{kind}:{key}"


# RFM segments and clusters are two different ways of cutting the same customers; a
# flat list made "Champions" and "Big spenders" look like one kind of thing.
AUDIENCE_GROUPS = {"rfm": _("RFM segments"), "cluster": _("Clusters"), "propensity": _("Likely buyers")}
# The drop-down recounts the audience (htmx) whenever it or the holdout changes.
AUDIENCE_HTMX = {"hx-get": reverse_lazy("campaign-audience"), "hx-trigger": "change",
                 "hx-include": "#id_audience, #id_holdout_percent", "hx-target": "#audience"}


def audience_choices(options: Sequence[AudienceChoice]) -> list:
    """Everyone first, then one <optgroup> per kind of audience, in the options' order."""
    choices: list = []
    groups: dict[str, list] = {}
    for o in options:
        choice = (audience_value(o.kind, o.key), f"{o.name} ({o.size:,})")
        if o.kind in AUDIENCE_GROUPS:
            if o.kind not in groups:
                groups[o.kind] = []
                choices.append((AUDIENCE_GROUPS[o.kind], groups[o.kind]))
            groups[o.kind].append(choice)
        else:
            choices.append(choice)
    return choices



def add_content_problems(form: forms.Form, data: dict) -> None:
    """The email's content problems (`campaign_problems`) as errors on their fields.

    Shared by every form that composes an email (campaigns, flows), once the fields it
    checks are valid.
    """
    if all(k in data for k in ("subject", "from_name", "from_address", "html_body")):
        for problem in campaign_problems(
            subject=data["subject"], from_name=data["from_name"],
            from_address=data["from_address"], html_body=data["html_body"],
        ):
            form.add_error(problem.field, problem.message)

class CampaignForm(forms.ModelForm):
    audience = forms.ChoiceField(label=_("Audience"), widget=forms.Select(attrs=AUDIENCE_HTMX))
    holdout_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Holdout (% of the audience not emailed)"), min_value=0, max_value=50, initial=10,
        help_text=_("A random share of the audience gets nothing, so you can tell whether the "
                    "email made people buy."),
    )

    class Meta:
        model = Campaign
        fields = ["name", "subject", "from_name", "from_address", "html_body",
                  "attribution_window_days", "max_per_second"]
        labels = {
            "name": _("Name"),
            "subject": _("Subject"),
            "from_name": _("From name"),
            "from_address": _("From address"),
            "html_body": _("Body (HTML)"),
            "attribution_window_days": _("Count purchases within (days)"),
            "max_per_second": _("Maximum emails per second"),
        }
        help_texts = {
            "max_per_second": _("Empty: the server's default. Your mail provider may have a limit."),
        }
        widgets = {
            "html_body": forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        }

    def __init__(self, *args, kind: str = "", key: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = audience_choices(segment_audience_options())
        self.fields["attribution_window_days"].min_value = 1
        if self.instance.pk:
            self.initial["audience"] = audience_value(
                self.instance.audience_kind, self.instance.audience_key
            )
            self.initial["holdout_percent"] = round(100 * self.instance.holdout_share)
        elif kind:
            self.initial["audience"] = audience_value(kind, key or kind)

    def clean_attribution_window_days(self) -> int:
        days = self.cleaned_data["attribution_window_days"]
        if not 1 <= days <= 60:
            raise forms.ValidationError(_("Between 1 and 60 days."))
        return days

    def clean(self) -> dict:
        data = super().clean()
        add_content_problems(self, data)
        return data

    def campaign_fields(self) -> dict:
        data = self.cleaned_data
        kind, _sep, key = data["audience"].partition(":")
        return {
            "name": data["name"], "subject": data["subject"], "from_name": data["from_name"],
            "from_address": data["from_address"], "html_body": data["html_body"],
            "audience_kind": kind, "audience_key": key,
            "holdout_share": data["holdout_percent"] / 100,
            "attribution_window_days": data["attribution_window_days"],
            "max_per_second": data.get("max_per_second"),
        }


class ScheduleForm(forms.Form):
    """A date and time in the shop's zone; `cleaned_data["at"]` is the UTC instant."""

    when = forms.CharField(
        label=_("Send on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In your shop's time zone. When the clocks go back and a time happens "
                    "twice, the first one is used."),
    )

    def __init__(self, *args, zone: str, now: datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone, self.now = zone, now

    def clean(self) -> dict:
        data = super().clean()
        raw = (data.get("when") or "").strip()
        if not raw:
            return data
        try:
            wall = datetime.fromisoformat(raw)
        except ValueError:
            self.add_error("when", _("Enter a date and time."))
            return data
        if wall.tzinfo is not None:
            self.add_error("when", _("Enter a date and time without a time zone."))
            return data
        wall = wall.replace(second=0, microsecond=0)
        try:
            resolved = local_to_utc(wall, self.zone)
        except NonExistentLocalTime:
            self.add_error("when", _(
                "%(time)s does not exist in %(zone)s: the clocks go forward then. "
                "Choose a time after the change.") % {
                    "time": f"{wall:%Y-%m-%d %H:%M}", "zone": self.zone})
            return data
        if resolved.utc <= self.now:
            self.add_error("when", _("Choose a time in the future."))
            return data
        data["at"], data["ambiguous"] = resolved.utc, resolved.ambiguous
        return data
