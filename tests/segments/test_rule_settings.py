import pytest
from django.urls import reverse

from segments.models import SegmentationRun
from segments.services.rules import rule_overrides
from segments.services.runs import segmentation_run_start

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
