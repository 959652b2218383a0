"""Campaign pages: thin, every decision is in services and selectors."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from campaigns import conf
from campaigns.emails.merge import KNOWN_TAGS, UnknownMergeTagError
from campaigns.forms import CampaignForm, ScheduleForm
from campaigns.models import Campaign, Suppression
from campaigns.outbox import outbox_message, outbox_page
from campaigns.selectors import (
    CONSENT_RULE,
    audience_summary,
    campaign_latest_send,
    campaign_list,
    campaign_report,
    outbox_counts,
)
from campaigns.services import campaigns as campaign_services
from campaigns.services.campaigns import CampaignError
from campaigns.services.rendering import SampleCustomer, preview_compose, preview_document
from ingest.models import Customer
from profiler_site.core.shop import shop_profile

MERGE_TAG_HELP = [
    ("{{ first_name }}", gettext_lazy("The customer's first name")),
    ('{{ first_name | "there" }}', gettext_lazy("…or “there” when it is unknown")),
    ("{{ last_name }}", gettext_lazy("Last name")),
    ("{{ full_name }}", gettext_lazy("First and last name")),
    ("{{ email }}", gettext_lazy("The customer's address")),
    ("{{ shop_name }}", gettext_lazy("Your shop's name")),
    ("{{ recommended_products }}",
     gettext_lazy("Up to three products this customer is likely to want, with their prices")),
    ("{{ unsubscribe_url }}",
     gettext_lazy("Their unsubscribe link (added as a footer if you leave it out)")),
]
assert {t.split()[1] for t, _d in MERGE_TAG_HELP} <= KNOWN_TAGS


def campaigns_view(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/campaigns.html", {
        "campaigns": campaign_list(),
        "suppressed": Suppression.objects.count(),
    })


def _sample_customer(kind: str, key: str):
    summary_ids = audience_summary(kind=kind, key=key).eligible_ids[:1]
    customer = Customer.objects.filter(pk__in=summary_ids).first()
    return customer or SampleCustomer()


def _preview_context(*, subject: str, html_body: str, from_name: str, customer) -> dict:
    try:
        composed = preview_compose(subject=subject, html_body=html_body, from_name=from_name,
                                   customer=customer)
    except UnknownMergeTagError as exc:
        return {"preview_errors": exc.tags}
    return {
        "preview_subject": composed.subject,
        "preview_html": preview_document(composed),
        "preview_text": composed.text,
        "preview_customer": customer,
    }


def _form_page(request: HttpRequest, form: CampaignForm, campaign: Campaign | None) -> HttpResponse:
    kind, _sep, key = (form["audience"].value() or "all:all").partition(":")
    context = {"form": form, "campaign": campaign, "merge_tags": MERGE_TAG_HELP,
               "consent_rule": CONSENT_RULE}
    subject = form["subject"].value() or ""
    body = form["html_body"].value() or ""
    if subject or body:
        context.update(_preview_context(subject=subject, html_body=body,
                                        from_name=form["from_name"].value() or "",
                                        customer=_sample_customer(kind, key)))
    return render(request, "campaigns/campaign_form.html", context)


def campaign_new_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CampaignForm(request.POST)
        if form.is_valid():
            campaign = campaign_services.campaign_create(user=request.user,
                                                         **form.campaign_fields())
            messages.success(request, _("Draft saved. Check the preview, send yourself a test, "
                                        "then send it."))
            return redirect("campaign-detail", campaign.pk)
    else:
        form = CampaignForm(
            kind=request.GET.get("kind", "all"), key=request.GET.get("key", "all"),
            initial={"from_address": shop_profile().sender_address,
                     "from_name": shop_profile().sender_name or conf.shop_name(),
                     "html_body": '<p>Hi {{ first_name | "there" }},</p>\n<p></p>\n'
                                  "{{ recommended_products }}"},
        )
    return _form_page(request, form, None)


def campaign_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.is_editable:
        messages.error(request, _("A campaign can only be edited before it is sent."))
        return redirect("campaign-detail", pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        campaign_services.campaign_update(campaign=Campaign.objects.get(pk=pk),
                                          **form.campaign_fields())
        messages.success(request, _("Saved."))
        return redirect("campaign-detail", pk)
    return _form_page(request, form, campaign)


@require_POST
def campaign_preview_view(request: HttpRequest) -> HttpResponse:
    """The live preview (htmx): rendered here for a sample customer, shown in a sandbox."""
    kind, _sep, key = request.POST.get("audience", "all:all").partition(":")
    context = _preview_context(
        subject=request.POST.get("subject", ""), html_body=request.POST.get("html_body", ""),
        from_name=request.POST.get("from_name", ""), customer=_sample_customer(kind, key),
    )
    return render(request, "campaigns/_preview.html", context)


@require_GET
def campaign_audience_view(request: HttpRequest) -> HttpResponse:
    """The live audience count (htmx) with exclusions and the detectable lift."""
    kind, _sep, key = request.GET.get("audience", "all:all").partition(":")
    try:
        share = int(request.GET.get("holdout_percent", "10")) / 100
    except ValueError:
        share = 0.10
    share = min(max(share, 0.0), 0.5)
    summary = audience_summary(kind=kind, key=key, holdout_share=share)
    return render(request, "campaigns/_audience.html",
                  {"audience": summary, "consent_rule": CONSENT_RULE})


def _detail_page(request: HttpRequest, campaign: Campaign, *,
                 schedule_form: ScheduleForm | None = None, status: int = 200) -> HttpResponse:
    context = {"campaign": campaign, "job": campaign_latest_send(campaign),
               "consent_rule": CONSENT_RULE, "now": timezone.now(),
               "shop_zone": shop_profile().time_zone}
    if campaign.is_editable:
        audience = audience_summary(kind=campaign.audience_kind, key=campaign.audience_key,
                                    holdout_share=campaign.holdout_share)
        context["audience"] = audience
        context["schedule_form"] = schedule_form or ScheduleForm(
            zone=context["shop_zone"], now=context["now"])
        customer = Customer.objects.filter(pk__in=audience.eligible_ids[:1]).first()
    else:
        context["report"] = campaign_report(campaign)
        customer = campaign.recipients.order_by("id").first()
    context.update(_preview_context(subject=campaign.subject, html_body=campaign.html_body,
                                    from_name=campaign.from_name,
                                    customer=customer or SampleCustomer()))
    return render(request, "campaigns/campaign_detail.html", context, status=status)


def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, get_object_or_404(Campaign, pk=pk))


@require_POST
def campaign_schedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    now = timezone.now()
    form = ScheduleForm(request.POST, zone=shop_profile().time_zone, now=now)
    if not form.is_valid():
        return _detail_page(request, campaign, schedule_form=form, status=400)
    try:
        campaign_services.campaign_schedule(campaign_id=pk, at=form.cleaned_data["at"], now=now)
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Scheduled. It starts on its own at that time; you can "
                                    "cancel the schedule until then."))
        if form.cleaned_data["ambiguous"]:
            messages.warning(request, _(
                "That time happens twice when the clocks go back; the first one was chosen "
                "(see the time in UTC below)."))
    return redirect("campaign-detail", pk)


@require_POST
def campaign_unschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, campaign_services.campaign_unschedule,
                   _("Schedule cancelled. The campaign is a draft again."))


def _action(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    get_object_or_404(Campaign, pk=pk)
    try:
        action(campaign_id=pk)
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("campaign-detail", pk)


@require_POST
def campaign_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, campaign_services.campaign_send_start,
                   _("Sending started. You can leave this page."))


@require_POST
def campaign_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, campaign_services.campaign_pause, _("Paused."))


@require_POST
def campaign_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, campaign_services.campaign_resume, _("Sending again."))


@require_POST
def campaign_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, campaign_services.campaign_cancel,
                   _("Cancelled. Nothing more will be sent."))


@require_POST
def campaign_send_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        campaign_services.campaign_send_test(campaign=campaign, to_address=request.user.email)
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("A test was sent to %(email)s.") % {"email": request.user.email})
    return redirect("campaign-detail", pk)


def campaign_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.is_editable:  # a draft or a scheduled campaign has no report yet
        return redirect("campaign-detail", pk)
    return render(request, "campaigns/report.html", {
        "campaign": campaign, "report": campaign_report(campaign),
        "job": campaign_latest_send(campaign), "track_opens": conf.track_opens(),
    })


# --- the local outbox ------------------------------------------------------------------


def outbox_view(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/outbox.html", {
        "page": outbox_page(page_number=request.GET.get("page")),
        "counts": outbox_counts(now=timezone.now()),
        "email_host": settings.EMAIL_HOST, "email_port": settings.EMAIL_PORT,
    })


def outbox_message_view(request: HttpRequest, key: str) -> HttpResponse:
    message = outbox_message(key=key)
    if message is None:
        raise Http404
    response = render(request, "campaigns/outbox_message.html", {"message": message})
    # Viewing a message here must not fetch its open pixel (a fake open) or any
    # remote image; the iframe is sandboxed (no scripts) on top of this.
    response["Content-Security-Policy"] = (
        "default-src 'self'; img-src data:; style-src 'self' 'unsafe-inline'; "
        "frame-src 'self'; script-src 'self'"
    )
    return response
