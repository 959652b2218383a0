"""Request gates: first-run account creation, login everywhere, per-user language."""

from __future__ import annotations

import ipaddress
import secrets
import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation

from profiler_site.core.shop import shop_profile

# Paths that never require an account: the account creation itself, static
# files, health checks and the signed links in emails.
PUBLIC_PREFIXES = ("/setup/", "/static/", "/health/", "/t/", "/u/", "/i18n/")


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.PROFILER_TRUSTED_PROXIES)))


class TrustedProxyMiddleware:
    """Forwarded headers count only when the TLS proxy in front of us sent them.

    Anyone can send `X-Forwarded-Proto: https` or `X-Forwarded-For`; from a
    client that is not a trusted proxy they are dropped, so Django's
    SECURE_PROXY_SSL_HEADER cannot be spoofed. From a trusted proxy, the client's
    address becomes REMOTE_ADDR: the right-most X-Forwarded-For entry that is not
    itself a trusted proxy (the left ones are whatever the client claimed). Login
    throttling and rate limits then key on the client, not on the proxy.
    """

    FORWARDED = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST",
                 "HTTP_X_REAL_IP", "HTTP_FORWARDED")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if _is_trusted(meta.get("REMOTE_ADDR", "")):
            hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
            for hop in reversed(hops):
                if not _is_trusted(hop):
                    meta["REMOTE_ADDR"] = hop
                    break
        else:
            for header in self.FORWARDED:
                meta.pop(header, None)
        return self.get_response(request)


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


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every response: scripts only from our own files.

    A name from a CSV that slipped through escaping still cannot run: there is no
    inline script or handler in the templates (static/js/profiler.js does it all),
    and a template that really needs one writes `nonce="{{ request.csp_nonce }}"`.
    Styles may be inline: plotly.js sets them on every chart it draws. Images may
    come from https: email previews show the shop's product images.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", "; ".join([
            "default-src 'self'",
            f"script-src 'self' 'nonce-{request.csp_nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'" if settings.X_FRAME_OPTIONS == "DENY"
            else "frame-ancestors 'self'",
        ]))
        return response
