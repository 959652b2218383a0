"""API keys: create (shown once), authenticate by hash, scope, revoke, expire."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from .models import ApiKey, ApiKeyScope

KEY_PREFIX = "prf_"


def _hash(key: str) -> str:
    # The keys are 256 random bits: a plain SHA-256 cannot be brute-forced, and
    # unlike a password hash it costs nothing per request.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class NewApiKey:
    api_key: ApiKey
    key: str  # the only time the key exists outside the caller's hands


def api_key_create(*, user: AbstractBaseUser, name: str, scope: str = ApiKeyScope.EVENTS,
                   expires_in_days: int | None = None) -> NewApiKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    api_key = ApiKey.objects.create(user=user, name=name, scope=scope, prefix=key[:10],
                                    key_hash=_hash(key), expires_at=expires_at)
    return NewApiKey(api_key=api_key, key=key)


def api_key_revoke(*, user: AbstractBaseUser, key_id: int) -> bool:
    return bool(ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))


def api_key_active(key: str, *, now: datetime | None = None) -> ApiKey | None:
    now = now or timezone.now()
    api_key = (ApiKey.objects.select_related("user")
               .filter(key_hash=_hash(key), revoked_at__isnull=True).first())
    if api_key is None or (api_key.expires_at is not None and api_key.expires_at <= now):
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=5):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)  # not a write per call
    return api_key


class ApiKeyAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`), looked up by its hash."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() not in (b"token", b"bearer"):
            return None
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid key header.") from exc
        api_key = api_key_active(key)
        if api_key is None or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return api_key.user, api_key


class ApiKeyScopePermission(permissions.BasePermission):
    """An events key may only POST to views that say `accepts_events_key = True`."""

    message = "This API key may only send events."

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey) or api_key.scope == ApiKeyScope.FULL:
            return True
        return request.method == "POST" and getattr(view, "accepts_events_key", False)
