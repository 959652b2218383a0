import logging
import re
import threading

import psycopg2
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from profiler_site.core import services
from tests.conftest import PASSWORD
from tests.support import database_url_for, wait_until

ACCOUNT = {"email": "me@shop.example", "password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture
def token_required(settings):
    settings.SETUP_TOKEN_REQUIRED = True
    services.setup_token_forget()
    yield
    services.setup_token_forget()


def logged_token(caplog) -> str:
    match = re.search(r"/setup/\?token=([\w-]+)", caplog.text)
    assert match, caplog.text
    return match.group(1)


@pytest.mark.django_db
def test_outside_a_loopback_run_setup_needs_the_token_printed_in_the_log(
        client, token_required, caplog):
    caplog.set_level(logging.WARNING)
    client.get(reverse("setup"))
    token = logged_token(caplog)

    guessed = client.post(reverse("setup"), {"username": "intruder", **ACCOUNT,
                                             "setup_token": "guess"})
    assert guessed.status_code == 200 and not get_user_model().objects.exists()

    claimed = client.post(reverse("setup"), {"username": "shopowner", **ACCOUNT,
                                             "setup_token": token})
    assert claimed.status_code == 302
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["shopowner"]


@pytest.mark.django_db
def test_the_setup_link_in_the_log_fills_the_token_in(client, token_required, caplog):
    caplog.set_level(logging.WARNING)
    client.get(reverse("setup"))
    token = logged_token(caplog)

    html = client.get(reverse("setup") + f"?token={token}").content.decode()

    assert f'value="{token}"' in html


@pytest.mark.django_db
def test_the_setup_token_works_once(client, token_required, caplog):
    caplog.set_level(logging.WARNING)
    client.get(reverse("setup"))
    token = logged_token(caplog)
    client.post(reverse("setup"), {"username": "shopowner", **ACCOUNT, "setup_token": token})
    get_user_model().objects.all().delete()

    again = Client().post(reverse("setup"), {"username": "second", **ACCOUNT,
                                             "setup_token": token})

    assert again.status_code == 200 and not get_user_model().objects.exists()


def _post_setup(username: str, results: list) -> None:
    try:
        response = Client().post(reverse("setup"), {"username": username, **ACCOUNT})
        results.append(response.status_code)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_setup_posts_create_one_account():
    # given both requests held at their first look at the user table
    blocker = psycopg2.connect(database_url_for(connection.settings_dict["NAME"]))
    with blocker.cursor() as cur:
        cur.execute("BEGIN; LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE")
    results: list[int] = []
    threads = [threading.Thread(target=_post_setup, args=(name, results))
               for name in ("first", "second")]
    for thread in threads:
        thread.start()

    def both_waiting() -> bool:
        with psycopg2.connect(database_url_for("postgres")) as probe, probe.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                        "AND wait_event_type = 'Lock'", [connection.settings_dict["NAME"]])
            return cur.fetchone()[0] == 2

    wait_until(both_waiting, timeout=30, what="both setup requests to wait on the lock")
    # when they are let go at the same moment
    blocker.rollback()
    blocker.close()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly one account exists
    assert get_user_model().objects.count() == 1
    assert sorted(results) == [302, 302]


@pytest.mark.django_db
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(client, settings, owner):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.PROFILER_TRUSTED_PROXIES = ["10.0.0.2/32"]

    spoofed = client.get("/accounts/login/", REMOTE_ADDR="203.0.113.9",
                         HTTP_X_FORWARDED_PROTO="https")
    proxied = client.get("/accounts/login/", REMOTE_ADDR="10.0.0.2",
                         HTTP_X_FORWARDED_PROTO="https")

    assert spoofed.status_code == 301 and spoofed["Location"].startswith("https://")
    assert proxied.status_code == 200
