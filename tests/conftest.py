from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.support import WorkerProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _fresh_shop_profile():
    # Each test's database starts without saved shop settings; a copy kept by this
    # process from an earlier test must not answer for it.
    from profiler_site.core.shop import shop_profile_forget

    shop_profile_forget()
    yield
    shop_profile_forget()


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Every test client comes from 127.0.0.1: budgets and login delays must not carry over.
    from profiler_site.core import login_throttle, rate_limit

    rate_limit.forget_all()
    login_throttle.forget_all()


@pytest.fixture
def throttle_clock(monkeypatch):
    """The clock of rate limits and login delays, moved by hand (a list of one float)."""
    from profiler_site.core import rate_limit

    now = [1_000_000.0]
    monkeypatch.setattr(rate_limit, "clock", lambda: now[0])
    return now


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_superuser(
        username="owner", email="owner@example.com", password=PASSWORD
    )


def api_key_header(user, *, scope: str = "full") -> dict[str, str]:
    """Django test-client kwargs that authenticate as `user` with a new API key."""
    from profiler_site.core.api_keys import api_key_create

    key = api_key_create(user=user, name="tests", scope=scope).key
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def purge_broker():
    from profiler_site.celery import app

    app.control.purge()


@pytest.fixture
def start_worker(transactional_db, purge_broker):
    """Start real Celery workers on the test database; all are stopped afterwards."""
    from django.db import connection

    workers: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(connection.settings_dict["NAME"], **kwargs)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="session")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def watch_csp(page) -> list[str]:
    """Chromium's console reports of what the Content-Security-Policy blocked on `page`."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    return blocked


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    blocked = watch_csp(page)
    yield page
    context.close()
    # Every browser test doubles as a check that the pages work under the policy.
    assert blocked == [], blocked


@pytest.fixture
def screenshot(page, request):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
