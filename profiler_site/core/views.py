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
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .audit import audit_recent
from .forms import LanguageForm, OwnerAccountForm
from .health import health_report
from .jobs import job_model_for_label, job_request_cancel
from .models import WorkerCheckJob


@login_not_required
@never_cache
def setup_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import get_user_model

    if get_user_model().objects.exists():
        return redirect("login")
    form = OwnerAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.owner_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except PermissionError:
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("overview")
    return render(request, "core/setup.html", {"form": form})


def settings_view(request: HttpRequest) -> HttpResponse:
    pref_language = getattr(getattr(request.user, "preference", None), "language", "en")
    form = LanguageForm(request.POST or None, initial={"language": pref_language})
    if request.method == "POST" and form.is_valid():
        services.user_language_set(user=request.user, language=form.cleaned_data["language"])
        messages.success(request, _("Language saved."))
        return redirect("settings")
    token = Token.objects.filter(user=request.user).first()
    context = {
        "form": form,
        "token": token,
        "worker_checks": WorkerCheckJob.objects.all()[:5],
        "audit_entries": audit_recent(),
    }
    return render(request, "core/settings.html", context)


@require_POST
def api_token_view(request: HttpRequest) -> HttpResponse:
    Token.objects.filter(user=request.user).delete()
    Token.objects.create(user=request.user)
    messages.success(request, _("A new API token was created; the old one no longer works."))
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
    checks = health_report()
    healthy = all(c.ok for c in checks.values())
    body = {
        "status": "ok" if healthy else "unhealthy",
        "checks": {name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for name, c in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


class MeApiView(APIView):
    """Who the API caller is: a cheap way for a script to test its token."""

    @extend_schema(responses={200: dict})
    def get(self, request: HttpRequest) -> Response:
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email})
