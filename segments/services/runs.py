"""Starting segmentation runs (coalesced) and the owner's segment names."""

from __future__ import annotations

from django.db import connection, transaction

from profiler_site.core.jobs import WAITING_FOR_WORKER, job_enqueue
from profiler_site.core.models import JobStatus
from segments.models import KMode, RunTrigger, SegmentationRun, SegmentKind, SegmentLabel

MIN_K, MAX_K = 2, 12
# Any constant shared by everyone who starts a run; serialises "is one queued already?".
_START_LOCK = 0x5E6_0001


RULE_SETTING_NAMES = ("min_support", "min_confidence", "max_len")


def _rule_settings(rules: dict) -> dict:
    """Only the settings the owner can set, and only those given (empty = automatic)."""
    return {name: value for name, value in rules.items() if name in RULE_SETTING_NAMES and value}


def segmentation_run_start(
    *, trigger: str = RunTrigger.MANUAL, k: int | None = None, coalesce: bool = True,
    rules: dict | None = None,
) -> tuple[SegmentationRun, bool]:
    """Queue a full refresh; return (run, created).

    With ``coalesce`` an already queued run is returned instead of a second one: a
    queued run has not read the data yet, so it will see everything imported so far.
    A running one may have read before the newest import, so it does not count.
    """
    from segments.tasks import run_segmentation_task

    if k is not None and not MIN_K <= k <= MAX_K:
        raise ValueError(f"k must be between {MIN_K} and {MAX_K}, got {k}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_START_LOCK])
        if rules is None:
            # The owner's rule settings stick: later runs (after imports too) keep them.
            latest = SegmentationRun.objects.order_by("-pk").values_list("baskets", flat=True).first()
            rules = (latest or {}).get("requested", {})
        rules = _rule_settings(rules)
        if coalesce:
            queued = SegmentationRun.objects.filter(status=JobStatus.QUEUED).order_by("-pk").first()
            if queued is not None:
                updates = []
                if k is not None and (queued.k_mode != KMode.FIXED or queued.k_requested != k):
                    queued.k_mode, queued.k_requested = KMode.FIXED, k
                    updates += ["k_mode", "k_requested"]
                if (queued.baskets or {}).get("requested", {}) != rules:
                    queued.baskets = {**(queued.baskets or {}), "requested": rules}
                    updates.append("baskets")
                if updates:
                    queued.save(update_fields=updates)
                return queued, False
        run = SegmentationRun.objects.create(
            trigger=trigger,
            k_mode=KMode.FIXED if k else KMode.AUTO,
            k_requested=k,
            baskets={"requested": rules},
            message=WAITING_FOR_WORKER,
        )
        job_enqueue(job=run, task=run_segmentation_task)
    return run, True


def rule_settings_apply(*, rules: dict) -> str:
    """Keep the owner's rule settings and mine the rules again with them.

    When the current run is settled (no run waiting or running, its rules job done),
    only its rules are mined again, which takes seconds instead of a whole refresh.
    Otherwise the settings go with the next run. Returns "rules" or "run": what runs.
    """
    from segments.models import RuleMiningJob
    from segments.services.rules import rule_mining_start

    rules = _rule_settings(rules)
    active = [JobStatus.QUEUED, JobStatus.RUNNING]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_START_LOCK])
        current = (SegmentationRun.objects.select_for_update()
                   .filter(is_current=True, status=JobStatus.SUCCEEDED).first())
        settled = (
            current is not None
            and not SegmentationRun.objects.filter(status__in=active).exists()
            and not RuleMiningJob.objects.filter(run=current, status__in=active).exists()
        )
        if settled:
            current.baskets = {**(current.baskets or {}), "requested": rules}
            current.save(update_fields=["baskets"])
            rule_mining_start(run=current)
            return "rules"
    segmentation_run_start(rules=rules)
    return "run"


def segment_rename(*, kind: str, key: str, name: str) -> SegmentLabel | None:
    """Give a segment the owner's name (kept across runs); an empty name restores the default."""
    if kind not in SegmentKind.values:
        raise ValueError(f"unknown segment kind {kind!r}")
    name = name.strip()[:100]
    if not name:
        SegmentLabel.objects.filter(kind=kind, key=key).delete()
        return None
    label, _ = SegmentLabel.objects.update_or_create(kind=kind, key=key, defaults={"name": name})
    return label
