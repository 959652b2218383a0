"""The Simplified Chinese catalogue is complete, compiled, and used by the pages."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%|</?\w+>")

NAV_LABELS = {
    "Overview": "概览",
    "Customers": "客户",
    "Segments": "客户细分",
    "Campaigns": "营销活动",
    "Flows": "自动流程",
    "Uploads": "上传",
    "Settings": "设置",
}


def _po_entries(path: Path) -> list[dict]:
    """A tiny .po reader: msgid, msgid_plural, msgstr / msgstr[n] and flags per entry."""
    entries: list[dict] = []
    entry: dict = {"flags": set(), "msgstr": {}}
    field: tuple | None = None

    def flush():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {"flags": set(), "msgstr": {}}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            field = None
        elif line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += value
            else:
                entry[field[0]] += value
        else:
            keyword, _space, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                entry["msgstr"][index] = value
                field = ("msgstr", index)
            else:
                entry[keyword] = value
                field = (keyword,)
    flush()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return _po_entries(LC_MESSAGES / "django.po")


def test_every_message_has_a_translation_and_none_is_fuzzy(entries):
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]

    assert len(entries) > 300
    assert untranslated == []
    assert fuzzy == []
    assert "#, fuzzy" not in (LC_MESSAGES / "django.po").read_text(encoding="utf-8")


def test_translations_keep_every_placeholder_and_tag(entries):
    broken = [
        e["msgid"] for e in entries for text in e["msgstr"].values()
        if sorted(PLACEHOLDER.findall(e["msgid"])) != sorted(PLACEHOLDER.findall(text))
    ]

    assert broken == []


def test_the_compiled_catalogue_is_up_to_date_with_the_po_file(entries):
    with (LC_MESSAGES / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)

    def compiled(e: dict) -> str:
        if "msgctxt" in e:
            return catalogue.pgettext(e["msgctxt"], e["msgid"])
        return catalogue.gettext(e["msgid"])

    stale = [e["msgid"] for e in entries
             if "msgid_plural" not in e and compiled(e) != e["msgstr"][0]]

    assert stale == []
    for english, chinese in NAV_LABELS.items():
        assert catalogue.gettext(english) == chinese


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["overview", "customers", "segments", "campaigns",
                                      "flows", "uploads", "settings"])
def test_a_chinese_speaking_owner_gets_every_main_page_in_chinese(owner, owner_client, url_name):
    from profiler_site.core.services import user_language_set

    user_language_set(user=owner, language="zh-hans")

    response = owner_client.get(reverse(url_name))
    html = response.content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.DOTALL).group(0)

    assert response.status_code == 200
    assert 'lang="zh-hans"' in html
    for english, chinese in NAV_LABELS.items():
        assert f">{chinese}</a>" in nav
        assert f">{english}</a>" not in nav
    assert "退出登录" in html


@pytest.mark.django_db
def test_the_default_interface_stays_english(owner_client):
    html = owner_client.get(reverse("overview")).content.decode()

    assert 'lang="en"' in html and ">Customers</a>" in html and "客户" not in html


@pytest.mark.django_db
def test_a_job_phase_written_by_the_worker_is_shown_in_the_readers_language(owner, owner_client):
    from profiler_site.core.models import JobStatus, WorkerCheckJob
    from profiler_site.core.services import user_language_set

    # The worker stores phases as their English catalogue ids.
    job = WorkerCheckJob.objects.create(status=JobStatus.RUNNING, phase="Counting",
                                        total=10, processed=3)
    url = reverse("job-progress", args=["core.workercheckjob", job.pk])

    english = owner_client.get(url).content.decode()
    user_language_set(user=owner, language="zh-hans")
    chinese = owner_client.get(url).content.decode()

    assert "· Counting" in english
    assert "· 正在计数" in chinese and "Counting" not in chinese


@pytest.mark.django_db
def test_a_finished_jobs_last_phase_is_not_shown_as_if_it_were_still_working(owner_client):
    from profiler_site.core.models import JobStatus, WorkerCheckJob

    job = WorkerCheckJob.objects.create(status=JobStatus.SUCCEEDED, phase="Counting",
                                        total=10, processed=10)

    html = owner_client.get(reverse("job-progress", args=["core.workercheckjob", job.pk])).content.decode()

    assert "Finished" in html and "Counting" not in html


@pytest.mark.django_db
def test_a_finished_run_shows_its_result_from_its_counts_not_its_last_message(owner, owner_client):
    from django.utils import timezone

    from profiler_site.core.models import JobStatus
    from profiler_site.core.services import user_language_set
    from segments.models import SegmentationRun

    now = timezone.now()
    run = SegmentationRun.objects.create(
        status=JobStatus.SUCCEEDED, total=9, processed=8, customer_count=26573, k_chosen=4,
        started_at=now - timezone.timedelta(seconds=2), finished_at=now,
        message="26,573 customers in 4 clusters; basket rules are mined next.")
    url = reverse("job-progress", args=["segments.segmentationrun", run.pk])

    english = owner_client.get(url).content.decode()
    user_language_set(user=owner, language="zh-hans")
    chinese = owner_client.get(url).content.decode()

    assert "26,573 customers in 4 clusters" in english
    assert "mined next" not in english and "per second" not in english and "8 of 9" not in english
    assert "26,573 位客户，分为 4 个聚类" in chinese and "customers" not in chinese


@pytest.mark.django_db
def test_a_finished_send_says_what_it_sent_in_the_readers_language(owner, owner_client):
    from campaigns.models import CampaignSend
    from profiler_site.core.models import JobStatus
    from profiler_site.core.services import user_language_set
    from tests.campaigns.conftest import make_campaign

    send = CampaignSend.objects.create(campaign=make_campaign(), status=JobStatus.SUCCEEDED,
                                       sent=1834, failed=0, message="1834 sent, 0 failed.")
    url = reverse("job-progress", args=["campaigns.campaignsend", send.pk])

    english = owner_client.get(url).content.decode()
    user_language_set(user=owner, language="zh-hans")
    chinese = owner_client.get(url).content.decode()

    assert "1,834 sent, 0 failed." in english
    assert "已发送 1,834 封，失败 0 封。" in chinese
