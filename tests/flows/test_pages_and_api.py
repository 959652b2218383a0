from datetime import timedelta

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from flows.models import Enrolment, Flow
from flows.starters import STARTERS, starters_offered
from ingest.models import Event
from tests.factories import CustomerFactory, OrderFactory
from tests.flows.conftest import T0, make_flow, make_run

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Lapsed", "trigger_kind": "segment_enter", "segments": ["rfm:at_risk"],
    "wait_hours": "24", "window_start_hour": "9", "window_end_hour": "18",
    "subject": "Hello {{ first_name }}", "from_name": "Bean Shop",
    "from_address": "shop@beans.example", "html_body": "<p>Hi</p><script>x()</script>",
    "reentry_days": "90", "holdout_percent": "20", "conversion_window_days": "14",
}


def _runs():
    from segments.models import Segment

    a, b = CustomerFactory(first_name="Ada"), CustomerFactory(first_name="Bo")
    make_run({a: "loyal", b: "at_risk"}, current=False)
    run = make_run({a: "at_risk", b: "at_risk"})
    for key, name in (("at_risk", "At Risk"), ("loyal", "Loyal")):
        Segment.objects.create(run=run, kind="rfm", key=key, name=name)
    return a, b


def test_pages_need_login(client, owner):
    for url in ("/flows/", "/flows/new/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def test_the_form_previews_who_would_have_entered_then_saves_a_flow_that_is_off(owner_client):
    _ada, _bo = _runs()
    preview = owner_client.post("/flows/new/", {**FORM, "preview": "1"})
    assert preview.status_code == 200
    assert "Ada" in preview.content.decode() and Flow.objects.count() == 0
    saved = owner_client.post("/flows/new/", FORM)
    flow = Flow.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/flows/{flow.pk}/"
    assert not flow.is_active and "<script>" not in flow.html_body
    assert flow.trigger_params == {"segment_kind": "rfm", "to_keys": ["at_risk"],
                                   "from_keys": []}
    assert flow.holdout_share == 0.2


def test_switching_on_from_the_report_page_and_the_report_in_both_languages(owner_client):
    _runs()
    flow = make_flow(on=False, holdout_share=0.5)
    owner_client.post(f"/flows/{flow.pk}/switch/", {"on": "1"})
    flow.refresh_from_db()
    assert flow.is_active
    page = owner_client.get(f"/flows/{flow.pk}/").content.decode()
    assert "Does this flow make people buy?" in page
    with translation.override("zh-hans"):
        page = owner_client.get(f"/flows/{flow.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Does this flow make people buy?" not in page


def test_a_vanished_trigger_cluster_is_named_on_the_report_and_an_empty_rfm_segment_is_not(
        owner_client):
    from segments.models import SegmentLabel

    _runs()
    SegmentLabel.objects.create(kind="rfm", key="cant_lose", name="Big spenders gone quiet")
    empty_rfm = make_flow(trigger_params={"segment_kind": "rfm", "to_keys": ["cant_lose"]})
    page = owner_client.get(f"/flows/{empty_rfm.pk}/").content.decode()
    assert "missing-segment" not in page and "Big spenders gone quiet" in page
    gone = make_flow(trigger_params={"segment_kind": "cluster", "to_keys": ["cluster-9"]})
    page = owner_client.get(f"/flows/{gone.pk}/").content.decode()
    assert "missing-segment" in page and "cluster-9" in page


def test_starters_need_a_valid_sender_address(owner_client):
    response = owner_client.post("/flows/starters/win_back/", follow=True)
    assert not Flow.objects.exists()
    assert "Set a valid sender address in Settings first." in response.content.decode()


@pytest.fixture
def sender(settings):
    settings.DEFAULT_FROM_EMAIL = "shop@beans.example"


def test_starters_are_offered_off_and_one_click_switches_one_on(owner_client, sender):
    assert [s.key for s in starters_offered()] == ["win_back", "welcome", "cross_sell"]
    response = owner_client.post("/flows/starters/win_back/")
    flow = Flow.objects.get(starter_key="win_back")
    assert response.status_code == 302 and flow.is_active
    assert flow.trigger_params["to_keys"] == ["at_risk", "cant_lose"]
    owner_client.post("/flows/starters/win_back/")
    assert Flow.objects.filter(starter_key="win_back").count() == 1
    assert "win_back" not in [s.key for s in starters_offered()]
    assert owner_client.post("/flows/starters/abandoned_cart/").status_code == 404


def test_abandoned_cart_is_offered_only_once_cart_events_exist(owner_client, sender):
    Event.objects.create(customer=CustomerFactory(), type="add_to_cart", occurred_at=T0,
                         dedupe_key="c1")
    assert "abandoned_cart" in [s.key for s in starters_offered()]
    owner_client.post("/flows/starters/abandoned_cart/")
    assert Flow.objects.get(starter_key="abandoned_cart").trigger_params["event_type"] == "add_to_cart"


def test_starters_are_written_in_the_owners_language(owner_client):
    with translation.override("zh-hans"):
        names = [str(s.name) for s in STARTERS]
    assert all(not n.isascii() for n in names)


def test_the_list_flags_a_flow_costing_sales(owner_client):
    people = [CustomerFactory() for _ in range(200)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    flow = make_flow(holdout_share=0.3)
    from flows.services.triggers import flows_evaluate

    flows_evaluate()
    for e in Enrolment.objects.filter(flow=flow, holdout=True):
        OrderFactory(customer=e.customer, ordered_at=T0 + timedelta(days=1))
    page = owner_client.get("/flows/").content.decode()
    assert "This flow may be costing you sales." in page


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def test_api_needs_a_login(db):
    assert APIClient().get("/api/flows/").status_code == 401
    assert APIClient().post("/api/flows/1/switch/", {"on": True}).status_code == 401


def test_api_creates_lists_switches_and_reports(api):
    created = api.post("/api/flows/", {
        "name": "API flow", "trigger_kind": "after_order", "trigger_params": {"days": 3},
        "subject": "Hi {{ first_name }}", "from_name": "Shop", "from_address": "shop@beans.example",
        "html_body": "<p>x</p>", "holdout_share": 0.2}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["is_active"] is False
    assert [f["name"] for f in api.get("/api/flows/").json()["results"]] == ["API flow"]
    switched = api.post(f"/api/flows/{pk}/switch/", {"on": True}, format="json")
    assert switched.json()["is_active"] is True
    stats = api.get(f"/api/flows/{pk}/stats/").json()
    assert stats["entered"] == 0 and stats["lift"] is None and stats["earned"] == "0.00"
    bad = api.post("/api/flows/", {"name": "x", "trigger_kind": "after_order", "subject": "{{ nope }}",
                                   "from_name": "Shop", "from_address": "shop@beans.example",
                                   "html_body": "<p>x</p>"}, format="json")
    assert bad.status_code == 400


def test_every_flow_page_reads_in_chinese(owner, owner_client, sender):
    import re

    from profiler_site.core.services import user_language_set
    from tests.browser.test_every_page_both_languages import ALLOWED, ENGLISH_RUN

    people = [CustomerFactory() for _ in range(40)]
    make_run({c: "loyal" for c in people}, current=False)
    make_run({c: "at_risk" for c in people})
    user_language_set(user=owner, language="zh-hans")
    owner_client.post("/flows/starters/win_back/")
    flow = Flow.objects.get()
    Flow.objects.filter(pk=flow.pk).update(holdout_share=0.5)
    from flows.services.sending import flows_hand_over
    from flows.services.triggers import flows_evaluate

    flows_evaluate()
    flows_hand_over(now=T0 + timedelta(days=2))
    for e in Enrolment.objects.filter(holdout=False)[:3]:
        OrderFactory(customer=e.customer, ordered_at=T0 + timedelta(days=3))
    flow.refresh_from_db()
    data_words = sorted({flow.name, flow.subject, *(c.email for c in people),
                         *(f"{c.first_name} {c.last_name}" for c in people)}, key=len, reverse=True)
    for url in ("/flows/", "/flows/new/", f"/flows/{flow.pk}/", f"/flows/{flow.pk}/edit/"):
        html = owner_client.get(url).content.decode()
        main = re.search(r"<main.*?</main>", html, re.DOTALL).group(0)
        main = re.sub(r"<(select|textarea|script|style)\b.*?</\1>", " ", main, flags=re.DOTALL)
        main = re.sub(r'value="[^"]*"', " ", main)
        text = re.sub(r"<[^>]+>", " ", main)
        for word in [*data_words, *ALLOWED]:
            text = text.replace(word, " ")
        assert ENGLISH_RUN.findall(text) == [], url
    # The trigger's segments are listed with "、" and its sentences follow each other
    # with no space, as Chinese is written.
    summary = re.search(r'<p class="flow-summary">(.*?)</p>',
                        owner_client.get(f"/flows/{flow.pk}/").content.decode()).group(1)
    assert "、" in summary and ", " not in summary and "。 " not in summary


def test_a_flows_carrier_campaign_stays_off_the_campaigns_list_and_points_to_the_flow(
    owner_client,
):
    from campaigns.models import Campaign
    from flows.services.sending import flows_hand_over
    from flows.services.triggers import flows_evaluate
    from tests.campaigns.conftest import make_campaign

    _runs()
    make_flow(holdout_share=0.0)
    flows_evaluate()
    flows_hand_over(now=T0 + timedelta(days=2))
    carrier = Campaign.objects.get(from_flow=True)
    one_off = make_campaign(name="Winter beans")

    listing = owner_client.get("/campaigns/").content.decode()
    detail = owner_client.get(f"/campaigns/{carrier.pk}/").content.decode()

    assert "Winter beans" in listing and carrier.name not in listing
    assert 'class="msg from-flow"' in detail and 'href="/flows/"' in detail
    assert 'class="msg from-flow"' not in owner_client.get(
        f"/campaigns/{one_off.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_carrier_campaigns_made_before_the_mark_existed_are_marked_by_the_migration():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("flows", "0002_enrolment_recipient_index_where_set"),
              ("campaigns", "0005_campaign_from_flow")]
    after = [("flows", "0003_flow_campaigns_marked")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    fields = {"name": "x", "subject": "s", "from_name": "f", "from_address": "a@b.example",
              "html_body": "<p>x</p>"}
    carrier = apps.get_model("campaigns", "Campaign").objects.create(**fields)
    one_off = apps.get_model("campaigns", "Campaign").objects.create(**fields)
    flow = apps.get_model("flows", "Flow").objects.create(
        name="Win back", trigger_kind="segment_enter", subject="s", from_name="f",
        from_address="a@b.example", html_body="<p>x</p>")
    apps.get_model("flows", "FlowCampaign").objects.create(
        flow=flow, version=1, entry_number=1, campaign=carrier)

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    from campaigns.models import Campaign
    assert Campaign.objects.get(pk=carrier.pk).from_flow
    assert not Campaign.objects.get(pk=one_off.pk).from_flow


def test_a_segment_flow_with_only_one_analysis_run_says_why_nobody_entered(owner_client):
    people = [CustomerFactory() for _ in range(3)]
    make_run({c: "at_risk" for c in people})  # the shop's first run: nothing to compare with
    flow = make_flow()

    page = owner_client.get(f"/flows/{flow.pk}/").content.decode()
    assert 'id="second-run"' in page

    make_run({c: "at_risk" for c in people})  # the next import's run: now there is a before
    assert 'id="second-run"' not in owner_client.get(f"/flows/{flow.pk}/").content.decode()
