"""The audit log of the owner's data: written by any app, read by the Settings page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import AuditAction, AuditEntry

# Actors without an account.
MANAGE_PY = "manage.py"
SCHEDULED = "scheduled task"


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """Who asks for a change: a logged-in user, or a named process."""

    name: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: AbstractBaseUser | None) -> Actor:
        if user is None or not user.is_authenticated:
            return cls(name=SCHEDULED)
        return cls(name=user.get_username(), user_id=user.pk)


def audit_record(*, actor: Actor, action: AuditAction, target: str = "",
                 details: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(actor=actor.name[:150], user_id=actor.user_id, action=action,
                                     target=target[:200], details=details or {})


def audit_recent(*, limit: int = 50) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()[:limit]
