"""Signed tokens for the links inside emails.

A token names rows (recipient, link), never a URL, so a forged or edited token can
at worst point at another row, and the signature (a per-purpose salt) rules that
out too: a click token is not an open token is not an unsubscribe token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

CLICK_SALT = "campaigns.tracking.click"
OPEN_SALT = "campaigns.tracking.open"
UNSUBSCRIBE_SALT = "campaigns.unsubscribe"


@dataclass(frozen=True, kw_only=True, slots=True)
class ClickToken:
    recipient_id: int
    link_id: int


_keyed: dict[tuple[str, str], hmac.HMAC] = {}


def _sign(salt: str, value: str) -> str:
    """`signing.Signer(salt=salt).sign(value)`, without deriving the key every call.

    A sending run signs three or four tokens per message; Django derives the HMAC
    key from the salt and SECRET_KEY each time. The keyed HMAC is kept per (salt,
    key) and copied; the output is byte for byte Django's (tests/campaigns/
    test_tokens.py), so `_unsign` reads it with Django's Signer.
    """
    secret = settings.SECRET_KEY
    keyed = _keyed.get((salt, secret))
    if keyed is None:
        key_salt = salt + "signer"
        key = hashlib.sha256((key_salt + secret).encode()).digest()
        keyed = _keyed[(salt, secret)] = hmac.new(key, digestmod=hashlib.sha256)
    mac = keyed.copy()
    mac.update(value.encode())
    signature = base64.urlsafe_b64encode(mac.digest()).strip(b"=").decode()
    return f"{value}:{signature}"


def _unsign(salt: str, token: str) -> str | None:
    if not token or len(token) > 200:
        return None
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        return None


def _ints(value: str | None, count: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    parts = value.split(".")
    if len(parts) != count or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def click_token(*, recipient_id: int, link_id: int) -> str:
    return _sign(CLICK_SALT, f"{recipient_id}.{link_id}")


def click_token_read(token: str) -> ClickToken | None:
    ids = _ints(_unsign(CLICK_SALT, token), 2)
    return None if ids is None else ClickToken(recipient_id=ids[0], link_id=ids[1])


def open_token(*, recipient_id: int) -> str:
    return _sign(OPEN_SALT, str(recipient_id))


def open_token_read(token: str) -> int | None:
    ids = _ints(_unsign(OPEN_SALT, token), 1)
    return None if ids is None else ids[0]


def unsubscribe_token(*, recipient_id: int) -> str:
    return _sign(UNSUBSCRIBE_SALT, str(recipient_id))


def unsubscribe_token_read(token: str) -> int | None:
    ids = _ints(_unsign(UNSUBSCRIBE_SALT, token), 1)
    return None if ids is None else ids[0]
