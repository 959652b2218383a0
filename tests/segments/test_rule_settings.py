import pytest
from django.urls import reverse

from segments.models import BasketRule, RuleMiningJob, SegmentationRun
from segments.services.rules import rule_overrides
from segments.services.runs import rule_settings_apply, segmentation_run_start
from tests.segments.helpers import run_refresh, run_rule_mining

pytestmark = pytest.mark.django_db


def test_the_owner_overrides_support_confidence_and_length_and_a_run_is_queued_with_them(
    owner_client, purge_broker
):
    response = owner_client.post(reverse("segments-rule-settings"), {
        "min_support": "0.005", "min_confidence": "0.3", "max_len": "2"})

    assert response.status_code == 302
    run = SegmentationRun.objects.get()
    assert run.baskets["requested"] == {"min_support": 0.005, "min_confidence": 0.3, "max_len": 2}
    assert rule_overrides(run.baskets["requested"]) == {
        "min_support": 0.005, "min_confidence": 0.3, "max_len": 2}


def test_with_a_settled_run_only_its_rules_are_mined_again_with_the_new_settings(
    small_shop, owner_client, purge_broker
):
    run = run_refresh()
    mined_before = RuleMiningJob.objects.get(run=run).pk

    response = owner_client.post(reverse("segments-rule-settings"), {
        "min_support": "0.05", "min_confidence": "0.9", "max_len": "2"}, follow=True)

    assert "the rules are mined again" in response.content.decode()
    assert list(SegmentationRun.objects.values_list("pk", flat=True)) == [run.pk]  # no new run
    job = RuleMiningJob.objects.get(run=run)
    assert job.pk != mined_before and job.status == "queued"
    run.refresh_from_db()
    assert run.baskets == {"requested": {"min_support": 0.05, "min_confidence": 0.9, "max_len": 2}}

    run_rule_mining(run)
    run.refresh_from_db()
    assert run.baskets["all"]["min_confidence"] == 0.9 and run.baskets["all"]["max_len"] == 2
    rules = BasketRule.objects.filter(run=run, segment_key="")
    assert all(r.confidence >= 0.9 for r in rules)


def test_while_a_run_is_waiting_the_settings_go_with_it(small_shop, purge_broker):
    run_refresh()
    waiting, _ = segmentation_run_start(trigger="import")

    assert rule_settings_apply(rules={"min_confidence": 0.4}) == "run"

    waiting.refresh_from_db()
    assert waiting.baskets["requested"] == {"min_confidence": 0.4}


def test_rule_settings_stick_for_later_automatic_runs(purge_broker):
    first, _ = segmentation_run_start(rules={"min_confidence": 0.5})
    SegmentationRun.objects.filter(pk=first.pk).update(status="succeeded")

    later, created = segmentation_run_start(trigger="import")

    assert created and later.baskets["requested"] == {"min_confidence": 0.5}


def test_invalid_rule_settings_are_refused_with_a_message(owner_client):
    response = owner_client.post(reverse("segments-rule-settings"), {"max_len": "9"}, follow=True)

    assert not SegmentationRun.objects.exists()
    assert "less than or equal to 5" in response.content.decode()


def test_empty_settings_mean_automatic():
    assert rule_overrides({}) == {} and rule_overrides(None) == {}
