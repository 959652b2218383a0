"""The flow form: trigger fields are flat here and become `trigger_params` in `flow_fields`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.forms import add_content_problems
from flows.models import Flow, TriggerKind
from flows.selectors import event_types, segment_choices

# Which trigger each trigger field belongs to (the page hides the others).
TRIGGER_FIELDS = {
    "segments": "segment_enter", "from_segments": "segment_enter",
    "threshold_percent": "p_alive_below", "factor": "overdue",
    "days": "after_first_order after_order", "event_type": "event_no_order",
    "hours": "event_no_order",
}


class FlowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    trigger_kind = forms.ChoiceField(label=_("Trigger"))
    segments = forms.MultipleChoiceField(
        label=_("Enters one of these segments"), required=False,
        help_text=_("RFM segments and clusters of the latest analysis run; pick one kind."))
    from_segments = forms.MultipleChoiceField(
        label=_("…coming from one of these (none: from anywhere)"), required=False)
    threshold_percent = forms.IntegerField(
        label=_("Chance of still being a customer below (%)"), min_value=1, max_value=99,
        initial=30, required=False)
    factor = forms.FloatField(label=_("Gone this many times their usual gap"), min_value=1.1,
                              initial=2.0, required=False)
    days = forms.IntegerField(label=_("Days after the order"), min_value=0, max_value=365,
                              initial=7, required=False)
    event_type = forms.ChoiceField(label=_("Event type"), required=False)
    hours = forms.IntegerField(label=_("Hours without an order after the event"), min_value=1,
                               max_value=168, initial=4, required=False)
    wait_hours = forms.IntegerField(label=_("Wait after entry (hours)"), min_value=0,
                                    max_value=24 * 60, initial=24)
    window_start_hour = forms.IntegerField(label=_("Send from (hour, shop time)"), min_value=0,
                                           max_value=23, initial=9)
    window_end_hour = forms.IntegerField(label=_("Send until (hour, shop time)"), min_value=1,
                                         max_value=24, initial=18)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    from_name = forms.CharField(label=_("From name"), max_length=150)
    from_address = forms.CharField(label=_("From address"), max_length=254)
    html_body = forms.CharField(label=_("Body (HTML)"),
                                widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}))
    reentry_days = forms.IntegerField(label=_("Can enter again after (days)"), min_value=1,
                                      max_value=3650, initial=90)
    holdout_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Holdout (% of entrants not emailed)"), min_value=0, max_value=50, initial=10,
        help_text=_("A random share of entrants gets nothing, so you can see what the flow "
                    "really earns."))
    conversion_window_days = forms.IntegerField(label=_("Count purchases within (days after entry)"),
                                                min_value=1, max_value=60, initial=14)

    def __init__(self, *args, flow: Flow | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        types = event_types()
        self.fields["trigger_kind"].choices = [
            (value, label) for value, label in TriggerKind.choices
            if value != TriggerKind.EVENT_NO_ORDER or types]
        p = (flow.trigger_params or {}) if flow is not None else {}
        kind = "cluster" if p.get("segment_kind") == "cluster" else "rfm"
        keep = tuple((kind, str(k)) for k in [*p.get("to_keys", []), *p.get("from_keys", [])])
        kinds = {"rfm": "RFM", "cluster": _("Cluster")}
        options = [(f"{c.kind}:{c.key}", f"{c.name} ({kinds.get(c.kind, c.kind)})")
                   for c in segment_choices(keep=keep)]
        self.fields["segments"].choices = options
        self.fields["from_segments"].choices = options
        self.fields["event_type"].choices = [(t, t) for t in types]
        for name, kinds in TRIGGER_FIELDS.items():
            self.fields[name].widget.attrs["data-trigger"] = kinds

    @classmethod
    def initial_for(cls, flow: Flow) -> dict:
        p = flow.trigger_params or {}
        kind = p.get("segment_kind", "rfm")
        return {
            "name": flow.name, "trigger_kind": flow.trigger_kind,
            "segments": [f"{kind}:{k}" for k in p.get("to_keys", [])],
            "from_segments": [f"{kind}:{k}" for k in p.get("from_keys", [])],
            "threshold_percent": round(100 * float(p.get("threshold", 0.3))),
            "factor": p.get("factor", 2.0), "days": p.get("days", 7),
            "event_type": p.get("event_type", ""), "hours": p.get("hours", 4),
            "wait_hours": flow.wait_hours, "window_start_hour": flow.window_start_hour,
            "window_end_hour": flow.window_end_hour, "subject": flow.subject,
            "from_name": flow.from_name, "from_address": flow.from_address,
            "html_body": flow.html_body, "reentry_days": flow.reentry_days,
            "holdout_percent": round(100 * flow.holdout_share),
            "conversion_window_days": flow.conversion_window_days,
        }

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("trigger_kind")
        if kind == TriggerKind.SEGMENT_ENTER:
            picked = data.get("segments") or []
            kinds = {v.partition(":")[0] for v in picked + (data.get("from_segments") or [])}
            if not picked:
                self.add_error("segments", _("Pick at least one segment."))
            elif len(kinds) > 1:
                self.add_error("segments", _("Pick RFM segments or clusters, not both."))
        elif kind == TriggerKind.EVENT_NO_ORDER and not data.get("event_type"):
            self.add_error("event_type", _("Pick an event type."))
        start, end = data.get("window_start_hour"), data.get("window_end_hour")
        if start is not None and end is not None and start >= end:
            self.add_error("window_end_hour", _("The window must end after it starts."))
        add_content_problems(self, data)
        return data

    def trigger_params(self) -> dict:
        data = self.cleaned_data
        kind = data["trigger_kind"]
        if kind == TriggerKind.SEGMENT_ENTER:
            picked = data.get("segments") or []
            return {"segment_kind": picked[0].partition(":")[0] if picked else "rfm",
                    "to_keys": [v.partition(":")[2] for v in picked],
                    "from_keys": [v.partition(":")[2] for v in data.get("from_segments") or []]}
        if kind == TriggerKind.P_ALIVE_BELOW:
            return {"threshold": (data.get("threshold_percent") or 30) / 100}
        if kind == TriggerKind.OVERDUE:
            return {"factor": data.get("factor") or 2.0}
        if kind in (TriggerKind.AFTER_FIRST_ORDER, TriggerKind.AFTER_ORDER):
            return {"days": data.get("days") if data.get("days") is not None else 7}
        return {"event_type": data.get("event_type", ""), "hours": data.get("hours") or 4}

    def flow_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "trigger_kind": data["trigger_kind"],
            "trigger_params": self.trigger_params(), "wait_hours": data["wait_hours"],
            "window_start_hour": data["window_start_hour"],
            "window_end_hour": data["window_end_hour"], "subject": data["subject"],
            "from_name": data["from_name"], "from_address": data["from_address"],
            "html_body": data["html_body"], "reentry_days": data["reentry_days"],
            "holdout_share": data["holdout_percent"] / 100,
            "conversion_window_days": data["conversion_window_days"],
        }
