from __future__ import annotations

import pytest

from profiler_site.core.jobs import execute_job
from profiler_site.core.models import JobStatus
from segments.models import BasketRule, Recommendation, RuleMiningJob
from segments.services.rules import rule_mining_execute
from tests.segments.helpers import run_refresh, run_rule_mining

pytestmark = pytest.mark.django_db


def test_a_run_queues_its_rules_job_when_its_save_commits(small_shop,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = run_refresh(rules=False)

    job = RuleMiningJob.objects.get(run=run)
    assert job.status == JobStatus.QUEUED and job.task_id
    # The rules task is sent only once the run's save commits (flows' evaluation, which
    # also waits for the commit, is the other callback).
    queued = [c for c in callbacks if c.__qualname__.startswith("job_enqueue.")]
    assert len(queued) == 1
    assert run.is_current and "basket rules are mined next" in run.message
    assert not BasketRule.objects.filter(run=run).exists()


def test_the_rules_job_saves_rules_and_recommendations_under_its_run(small_shop):
    run = run_refresh(rules=False)

    job = run_rule_mining(run)

    run.refresh_from_db()
    assert job.processed == job.total and job.message.endswith("customers.")
    assert BasketRule.objects.filter(run=run).exists()
    assert set(Recommendation.objects.values_list("run_id", flat=True)) == {run.pk}
    assert run.baskets["all"]["basket_count"] > 0 and "requested" in run.baskets
    assert set(run.baskets["segments"]) <= {"", *run.segments.values_list("key", flat=True)}


def test_a_redelivered_rules_job_replaces_what_the_first_attempt_saved(small_shop):
    run = run_refresh(rules=False)
    job = run_rule_mining(run)
    rules, recommendations = BasketRule.objects.count(), Recommendation.objects.count()

    # The same message again, as after a worker died before acknowledging it.
    RuleMiningJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    status = execute_job(model=RuleMiningJob, job_id=job.pk, task_id=job.task_id,
                         work=rule_mining_execute)

    assert status == JobStatus.SUCCEEDED
    assert BasketRule.objects.count() == rules > 0
    assert Recommendation.objects.count() == recommendations > 0


def test_a_superseded_runs_rules_job_leaves_the_newer_runs_recommendations(small_shop):
    older = run_refresh(rules=False)
    newer = run_refresh()

    run_rule_mining(older)

    assert "newer analysis replaced" in RuleMiningJob.objects.get(run=older).message
    assert set(Recommendation.objects.values_list("run_id", flat=True)) == {newer.pk}


def test_rules_page_says_rules_are_being_mined_and_shows_the_previous_runs(small_shop,
                                                                           owner_client):
    first = run_refresh()
    second = run_refresh(rules=False)

    pending = owner_client.get("/segments/rules/").content.decode()

    assert "Basket rules for the newest analysis are being mined" in pending
    assert 'id="job-segmentsruleminingjob-' in pending  # the job's progress box polls
    assert "the rules of the earlier analysis" in pending
    assert BasketRule.objects.filter(run=first).exists()
    first_rule = BasketRule.objects.filter(run=first, segment_key="").first()
    assert f"{first_rule.lift:.2f}" in pending

    run_rule_mining(second)
    done = owner_client.get("/segments/rules/").content.decode()

    assert "being mined" not in done and "Customers who bought" in done


def test_rules_page_says_so_when_the_first_runs_rules_are_not_mined_yet(small_shop,
                                                                       owner_client):
    run_refresh(rules=False)

    page = owner_client.get("/segments/rules/").content.decode()

    assert "Basket rules for the newest analysis are being mined" in page
    assert "There are no earlier rules to show meanwhile." in page


def test_rules_page_says_when_mining_failed(small_shop, owner_client):
    run = run_refresh(rules=False)
    RuleMiningJob.objects.filter(run=run).update(status=JobStatus.FAILED, error="Out of memory")

    page = owner_client.get("/segments/rules/").content.decode()

    assert "Mining the basket rules for the newest analysis did not finish." in page
    assert "Out of memory" in page


def test_a_skipped_superseded_run_is_not_shown_as_having_no_rules(small_shop, owner_client):
    # given: run 1 mined; run 2 finished but its job had not run when run 3 replaced it
    first = run_refresh()
    second = run_refresh(rules=False)
    third = run_refresh(rules=False)
    run_rule_mining(second)  # skips: a newer run is current

    page = owner_client.get("/segments/rules/").content.decode()

    from segments import selectors
    assert selectors.rules_run() == first
    assert "the rules of the earlier analysis" in page
    run_rule_mining(third)
    assert selectors.rules_run() == third
