"""A link cut short by a mail client reaches the shop's own page, never Django's debug page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

MANGLED = [
    "/t/c/not-a-token",
    "/t/c/abc/def",
    "/t/o/abc.png",
    "/t/",
    "/t/x",
    "/u/not-a-token/",
    "/u/not-a-token",
    "/u/abc/one-click/extra/",
    "/u/",
]


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", MANGLED)
def test_a_mangled_public_link_gets_the_shops_not_valid_page_whatever_debug_says(path, debug):
    with override_settings(DEBUG=debug, SHOP_NAME="Chloé's Records"):
        response = Client().get(path)

    assert response.status_code == 404
    body = response.content.decode()
    assert "This link is not valid" in body
    assert "Chloé&#x27;s Records" in body
    assert "URLconf" not in body and "Django" not in body and "Traceback" not in body


def test_the_not_valid_page_speaks_chinese_to_a_chinese_browser():
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/t/c/abc/def")

    assert response.status_code == 404
    assert "此链接无效" in response.content.decode()


@override_settings(DEBUG=False)
def test_an_unknown_page_outside_the_public_links_is_the_branded_not_found_page(client, django_user_model):
    user = django_user_model.objects.create_user("owner", password="pw-long-enough-123")
    client.force_login(user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and "URLconf" not in body
