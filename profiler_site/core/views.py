"""Kernel pages: first-run setup, settings, job progress, health."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import health, services
from .api_keys import api_key_create, api_key_revoke
from .audit import audit_recent
from .forms import ApiKeyForm, LanguageForm, OwnerAccountForm, ShopSettingsForm
from .jobs import job_model_for_label, job_request_cancel
from .models import WorkerCheckJob
from .shop import known_currencies, known_time_zones, shop_profile, shop_settings_update


@login_not_required
@never_cache
def setup_view(request: HttpRequest) -> HttpResponse:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    if get_user_model().objects.exists():
        return redirect("login")
    form = OwnerAccountForm(request.POST or None,
                            initial={"setup_token": request.GET.get("token", "")})
    if settings.SETUP_TOKEN_REQUIRED:
        services.setup_token_issue()
    else:
        del form.fields["setup_token"]
    if request.method == "POST" and form.is_valid():
        try:
            user = services.owner_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                setup_token=form.cleaned_data.get("setup_token", ""),
            )
        except PermissionError:
            if not get_user_model().objects.exists():
                form.add_error("setup_token", _("This setup token is wrong or already used."))
                return render(request, "core/setup.html", {"form": form})
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("overview")
    return render(request, "core/setup.html", {"form": form})


def _language_form(request: HttpRequest, data=None) -> LanguageForm:
    pref_language = getattr(getattr(request.user, "preference", None), "language", "en")
    return LanguageForm(data, initial={"language": pref_language})


def _shop_form(data=None) -> ShopSettingsForm:
    shop = shop_profile()
    return ShopSettingsForm(data, initial={
        "name": shop.name, "currency": shop.currency, "time_zone": shop.time_zone,
        "sender_name": shop.sender_name, "sender_address": shop.sender_address,
        "marketing_emails_per_week": shop.marketing_emails_per_week,
        "product_url_template": shop.product_url_template,
    }, currencies=known_currencies(), time_zones=known_time_zones())


def _settings_page(request: HttpRequest, *, form: LanguageForm | None = None,
                   shop_form: ShopSettingsForm | None = None, key_form: ApiKeyForm | None = None,
                   new_key: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form or _language_form(request),
        "shop_form": shop_form or _shop_form(),
        "key_form": key_form or ApiKeyForm(),
        "api_keys": request.user.api_keys.all(),
        "new_key": new_key,
        "worker_checks": WorkerCheckJob.objects.all()[:5],
        "audit_entries": audit_recent(),
    }
    return render(request, "core/settings.html", context, status=status)


def settings_view(request: HttpRequest) -> HttpResponse:
    form = _language_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_language_set(user=request.user, language=form.cleaned_data["language"])
        messages.success(request, _("Language saved."))
        return redirect("settings")
    return _settings_page(request, form=form)


@require_POST
def shop_settings_view(request: HttpRequest) -> HttpResponse:
    shop_form = _shop_form(request.POST)
    if not shop_form.is_valid():
        return _settings_page(request, shop_form=shop_form, status=400)
    shop_settings_update(**shop_form.cleaned_data)
    messages.success(request, _("Shop settings saved."))
    return redirect("settings")


@require_POST
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    key_form = ApiKeyForm(request.POST)
    if not key_form.is_valid():
        return _settings_page(request, key_form=key_form)
    created = api_key_create(user=request.user, **key_form.cleaned_data)
    # Rendered, not redirected: the key is on this one page and stored nowhere.
    response = _settings_page(request, new_key=created.key)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    if api_key_revoke(user=request.user, key_id=pk):
        messages.success(request, _("The key was revoked; it no longer works."))
    return redirect("settings")


@require_POST
def worker_check_start_view(request: HttpRequest) -> HttpResponse:
    services.worker_check_start()
    messages.info(request, _("A test job was sent to the background worker."))
    return redirect("settings")


def _job_or_404(label: str, pk: int):
    model = job_model_for_label(label)
    if model is None:
        raise Http404
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist as exc:
        raise Http404 from exc


@never_cache
def job_progress_view(request: HttpRequest, label: str, pk: int) -> HttpResponse:
    job = _job_or_404(label, pk)
    response = render(request, "core/_progress.html", {"job": job})
    if request.htmx and not job.is_active and request.GET.get("reload"):
        # The poll saw the job end: reload the page so its results appear.
        response["HX-Refresh"] = "true"
    return response


@require_POST
def job_cancel_view(request: HttpRequest, label: str, pk: int) -> HttpResponse:
    job = _job_or_404(label, pk)
    job_request_cancel(job=job)
    if request.htmx:
        return render(request, "core/_progress.html", {"job": job})
    messages.info(request, _("Cancelling…"))
    return redirect(request.headers.get("Referer") or reverse("overview"))


@login_not_required
@never_cache
def health_view(request: HttpRequest) -> JsonResponse:
    deep = request.user.is_authenticated or health.health_token_matches(
        request.headers.get("X-Health-Token", ""))
    if deep:
        checks = health.deep_report()
        healthy = all(c.ok for c in checks.values())
        body = {
            "status": "ok" if healthy else "unhealthy",
            "checks": {name: {"ok": c.ok, "detail": c.detail, "ms": c.ms}
                       for name, c in checks.items()},
        }
    else:
        alive = health.liveness()
        healthy = all(alive.values())
        body = {"status": "ok" if healthy else "unhealthy", "checks": alive}
    return JsonResponse(body, status=200 if healthy else 503)


class MeApiView(APIView):
    """Who the API caller is: a cheap way for a script to test its token."""

    @extend_schema(responses={200: dict})
    def get(self, request: HttpRequest) -> Response:
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email})
