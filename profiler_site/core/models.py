from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for you")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """A long piece of work done by a worker, as a row the page can poll.

    Concrete jobs (imports, segmentation runs, campaign sends) inherit this.
    A worker claims the row, beats `heartbeat_at` while it works and records a
    checkpoint in `processed`; the reaper turns rows whose worker died into
    "failed" (or queues them again), so nothing stays "running" for ever.
    """

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=100, blank=True, default="")
    total = models.BigIntegerField(default=0)
    processed = models.BigIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    # The Celery task that runs this kind of job; the reaper requeues with it.
    task_name: str = ""

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if self.total <= 0:
            return 0
        return min(100, int(100 * self.processed / self.total))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def job_label(self) -> str:
        return self._meta.label_lower

    @property
    def result_text(self) -> str:
        """What a finished job achieved, in the reader's language ("" if nothing to add).

        Built from the job's own counts when the page renders, so it never repeats a
        stale phase ("basket rules are mined next") and follows the reader's
        language; each kind of job says its own result.
        """
        return ""

    @property
    def error_text(self) -> str:
        """Why the job failed, in the reader's language where the kind of job keeps its
        reasons as data (an import's refused file); else `error` as written."""
        return self.error

    @property
    def rate_per_second(self) -> float | None:
        if not self.started_at or not self.processed:
            return None
        end = self.finished_at or self.heartbeat_at
        if end is None:
            return None
        seconds = (end - self.started_at).total_seconds()
        return self.processed / seconds if seconds > 0 else None


class WorkerCheckJob(Job):
    """A harmless job that counts to `total`: proves the worker, progress bar and reaper work.

    The owner can start one from Settings ("Test the background worker"); the
    tests use it to kill a worker mid-job.
    """

    step_seconds = models.FloatField(default=0.05)

    task_name = "profiler_site.core.tasks.run_worker_check_task"


class UserPreference(models.Model):
    """Per-user choices that follow the user across browsers (today: the UI language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class ShopSettings(models.Model):
    """The shop's own facts, editable on Settings: one row (pk=1), absent until first saved.

    Until the owner saves them, the environment's values apply (SHOP_NAME,
    SHOP_CURRENCY, SHOP_TIME_ZONE, DEFAULT_FROM_EMAIL); see profiler_site/core/shop.py.
    """

    name = models.CharField(max_length=150, blank=True, default="")
    currency = models.CharField(max_length=3)
    time_zone = models.CharField(max_length=64)
    sender_name = models.CharField(max_length=150, blank=True, default="")
    sender_address = models.EmailField(blank=True, default="")
    # The frequency cap (campaigns.services.sending.outbox_take): at most this many
    # marketing emails per customer in any 7 days, campaigns and flows together; 0: none.
    marketing_emails_per_week = models.PositiveSmallIntegerField(default=2)
    # A product page's address with "{sku}" where the product's SKU goes; blank: the
    # recommended products in emails are names with prices, not links.
    product_url_template = models.CharField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or "Shop settings"


class ApiKeyScope(models.TextChoices):
    FULL = "full", _("Everything the owner can do")
    EVENTS = "events", _("Only send events (for a website)")


class ApiKey(models.Model):
    """A key for the API, kept as its SHA-256 only: the key itself is shown once, at creation.

    An `events` key can only post events, which is all a website needs; a leaked
    one cannot read customers or send campaigns. Revoked and expired keys stay
    listed (when, what) but no longer authenticate.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_keys")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices,
                             default=ApiKeyScope.EVENTS)
    # The first characters, to tell keys apart in the list and in logs.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope})"


class AuditAction(models.TextChoices):
    CUSTOMER_EXPORTED = "customer_exported", _("Customer's data downloaded")
    CUSTOMER_ERASED = "customer_erased", _("Customer erased")
    UPLOADS_PURGED = "uploads_purged", _("Old uploaded files deleted")
    EVENTS_PURGED = "events_purged", _("Old events deleted")
    BACKUP_WRITTEN = "backup_written", _("Backup written")


class AuditEntry(models.Model):
    """Who did what to the owner's data, and when: shown on Settings, never edited.

    `target` names the thing acted on without personal data (an erased customer is
    "customer #12", never their address); `details` holds counts. `actor` is the
    user's name, or what acted without one ("manage.py", "scheduled task"), kept
    as text so the entry outlives the account.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target = models.CharField(max_length=200, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"
