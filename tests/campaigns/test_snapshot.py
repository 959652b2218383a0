"""The audience snapshot: one outbox row per eligible customer, written in one statement."""

from __future__ import annotations

import sys

import pytest

from campaigns.analysis.holdout import split_holdout
from campaigns.models import Recipient, RecipientGroup, RecipientStatus
from campaigns.services.campaigns import campaign_send_start
from campaigns.services.sending import PY_WHITESPACE, outbox_fill
from tests.campaigns.conftest import make_campaign, make_customers

pytestmark = pytest.mark.django_db


def test_the_sql_trim_set_is_exactly_what_str_strip_removes():
    assert set(PY_WHITESPACE) == {
        chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()
    }


def test_the_snapshot_copies_each_eligible_customer_with_its_group_in_id_order():
    customers = make_customers(20)
    campaign = make_campaign(holdout_share=0.2)

    campaign_send_start(campaign_id=campaign.pk)

    rows = list(Recipient.objects.filter(campaign=campaign).order_by("id"))
    split = split_holdout([c.pk for c in customers], 0.2, campaign.seed)
    assert [r.customer_id for r in rows] == sorted(c.pk for c in customers)
    assert {r.customer_id for r in rows if r.group == RecipientGroup.HOLDOUT} == set(
        split.holdout_ids
    )
    for row in rows:
        held = row.group == RecipientGroup.HOLDOUT
        assert row.status == (RecipientStatus.HELD_OUT if held else RecipientStatus.PENDING)
        assert (row.attempts, row.opens, row.clicks, row.claimed_by, row.error) == (0, 0, 0, "", "")
        assert row.sent_at is None and row.claimed_at is None
    by_id = {c.pk: c for c in customers}
    assert all(
        (r.email, r.first_name, r.last_name)
        == (by_id[r.customer_id].email, by_id[r.customer_id].first_name,
            by_id[r.customer_id].last_name)
        for r in rows
    )


def test_the_snapshot_trims_an_address_as_python_does_and_keeps_inner_text():
    (customer,) = make_customers(1, email="\u00a0 \tpat@example.com\u2003\n", first_name=" Pat ")
    campaign = make_campaign(holdout_share=0)

    campaign_send_start(campaign_id=campaign.pk)

    row = Recipient.objects.get(campaign=campaign)
    assert row.email == "pat@example.com" == customer.email.strip()
    assert row.first_name == " Pat "  # names are copied as they are; merging cleans them


def test_filling_twice_keeps_the_rows_already_there():
    customers = make_customers(3)
    campaign = make_campaign(holdout_share=0)
    ids = [c.pk for c in customers]

    first = outbox_fill(campaign_id=campaign.pk, treatment_ids=ids, holdout_ids=[])
    Recipient.objects.filter(campaign=campaign).update(status=RecipientStatus.SENT)
    again = outbox_fill(campaign_id=campaign.pk, treatment_ids=ids, holdout_ids=[])

    assert (first, again) == (3, 0)
    assert set(Recipient.objects.filter(campaign=campaign).values_list("status", flat=True)) == {
        RecipientStatus.SENT
    }
