import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD, api_key_header

pytestmark = pytest.mark.django_db


def test_with_no_account_every_page_leads_to_create_your_account(client):
    response = client.get(reverse("customers"))

    assert response.status_code == 302 and response["Location"] == reverse("setup")


def test_the_first_account_is_created_and_signed_in(client):
    response = client.post(reverse("setup"), {
        "username": "shopowner", "email": "me@shop.example",
        "password1": PASSWORD, "password2": PASSWORD,
    })

    assert response.status_code == 302
    assert get_user_model().objects.get().is_superuser
    assert client.get(reverse("overview")).status_code == 200


def test_setup_rejects_a_weak_password_with_djangos_validators(client):
    response = client.post(reverse("setup"), {
        "username": "shopowner", "email": "me@shop.example",
        "password1": "123", "password2": "123",
    })

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_setup_is_closed_once_an_account_exists(client, owner):
    response = client.post(reverse("setup"), {
        "username": "intruder", "email": "x@example.com",
        "password1": PASSWORD, "password2": PASSWORD,
    })

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["owner"]


def test_the_owner_can_switch_the_interface_to_simplified_chinese(owner_client):
    owner_client.post(reverse("settings"), {"language": "zh-hans"})

    html = owner_client.get(reverse("overview")).content.decode()

    assert "客户" in html and 'lang="zh-hans"' in html


def test_the_api_answers_401_without_credentials_and_200_with_a_token(client, owner):
    anonymous = client.get("/api/me/")
    with_token = client.get("/api/me/", **api_key_header(owner))

    assert anonymous.status_code == 401
    assert set(anonymous.json()["error"]) == {"code", "message", "details"}
    assert with_token.status_code == 200 and with_token.json()["username"] == "owner"


def test_the_api_schema_and_docs_are_served_to_the_owner(owner_client):
    schema = owner_client.get(reverse("api-schema"))
    docs = owner_client.get(reverse("api-docs"))

    assert schema.status_code == 200 and b"openapi" in schema.content
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()
