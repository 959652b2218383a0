"""Signal receivers: campaigns react to customers that ingest is about to remove."""

from __future__ import annotations

from django.dispatch import receiver

from ingest.signals import customers_removing


@receiver(customers_removing, dispatch_uid="campaigns.forget_unsent_to_removed")
def forget_unsent_to_removed(sender, customer_ids: list[int], **kwargs) -> None:
    from .services.campaigns import recipients_forget_unsent

    recipients_forget_unsent(customer_ids=customer_ids)
