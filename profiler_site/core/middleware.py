"""Request gates: first-run account creation, login everywhere, per-user language."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation

from profiler_site.core.shop import shop_profile

# Paths that never require an account: the account creation itself, static
# files, health checks and the signed links in emails.
PUBLIC_PREFIXES = ("/setup/", "/static/", "/health/", "/t/", "/u/", "/i18n/")


class FirstRunMiddleware:
    """Until the owner has an account, every page leads to "create your account"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only anonymous requests ask (one indexed EXISTS); a signed-in user proves an account.
        user = getattr(request, "user", None)
        if (
            not (user and user.is_authenticated)
            and not request.path.startswith(PUBLIC_PREFIXES)
            and not request.path.startswith("/api/")  # the API answers 401 on its own
            and not get_user_model().objects.exists()
        ):
            return redirect(reverse("setup"))
        return self.get_response(request)


class PagesLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's login-required-by-default, except the API, which answers 401/403 itself.

    DRF authenticates tokens inside the view, after middleware, so the API is
    protected by DRF's IsAuthenticated default instead of a login redirect.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class ShopTimeZoneMiddleware:
    """Show dates in the shop's time zone (Settings → Shop), whatever the server's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zoneinfo.ZoneInfo(shop_profile().time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class UserLanguageMiddleware:
    """Activate the language the signed-in user chose in Settings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            pref = getattr(user, "preference", None) if hasattr(user, "preference") else None
            language = pref.language if pref else None
        language = language or translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        translation.deactivate()
        return response
