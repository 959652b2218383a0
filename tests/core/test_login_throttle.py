import pytest
from django.urls import reverse

from profiler_site.core import login_throttle
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"  # in PROFILER_TRUSTED_PROXIES by default
ATTACKER = "198.51.100.7"
OWNER_HOME = "203.0.113.5"


def log_in(client, password, *, via=ATTACKER, username="owner"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {via}")


def test_wrong_passwords_from_an_attacker_behind_the_proxy_do_not_lock_the_owner_out(
        client, owner, throttle_clock, settings):
    for _ in range(settings.LOGIN_FREE_FAILURES + 3):
        log_in(client, "wrong")
        throttle_clock[0] += login_throttle.MAX_DELAY_SECONDS  # the attacker waits out every delay

    response = log_in(client, PASSWORD, via=OWNER_HOME)

    assert response.status_code == 302, response.content.decode()[:500]


def test_the_delay_per_username_grows_with_each_wrong_password(client, owner, throttle_clock, settings):
    for _ in range(settings.LOGIN_FREE_FAILURES):
        assert log_in(client, "wrong").status_code == 200
    waits = []
    for _ in range(3):
        refused = log_in(client, PASSWORD, via=OWNER_HOME)  # even the right one must wait
        assert refused.status_code == 429
        assert "Too many wrong passwords" in refused.content.decode()
        waits.append(login_throttle.seconds_to_wait(username="owner", address=OWNER_HOME))
        throttle_clock[0] += waits[-1]
        assert log_in(client, "wrong").status_code == 200

    assert waits == [1, 2, 4]


def test_the_right_password_after_the_delay_logs_in_and_clears_the_count(
        client, owner, throttle_clock, settings):
    for _ in range(settings.LOGIN_FREE_FAILURES + 1):
        log_in(client, "wrong")
    throttle_clock[0] += 1

    assert log_in(client, PASSWORD, via=OWNER_HOME).status_code == 302
    assert login_throttle.seconds_to_wait(username="owner", address=ATTACKER) == 0


def test_the_delay_never_exceeds_the_cap(client, owner, throttle_clock, settings):
    for _ in range(settings.LOGIN_FREE_FAILURES + 40):
        log_in(client, "wrong")
        throttle_clock[0] += login_throttle.MAX_DELAY_SECONDS

    log_in(client, "wrong")

    assert login_throttle.seconds_to_wait(username="owner", address=OWNER_HOME) == (
        login_throttle.MAX_DELAY_SECONDS)


def test_one_address_trying_many_usernames_is_delayed_too(client, owner, throttle_clock, settings):
    for n in range(settings.LOGIN_FREE_FAILURES + 1):
        log_in(client, "wrong", username=f"guess{n}")

    response = log_in(client, "wrong", username="another")

    assert response.status_code == 429
