"""Thin Celery tasks for beat and the after-run hook: each calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def evaluate_flows_task() -> int:
    from flows.services.triggers import flows_evaluate

    return sum(e.entered for e in flows_evaluate())


@shared_task(acks_late=True)
def send_due_flows_task() -> int:
    from flows.services.sending import flows_hand_over

    return flows_hand_over().emailed
