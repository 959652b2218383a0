"""Walk the whole URL conf: nothing but the public endpoints answers an anonymous visitor."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Public by design: login/setup, health, and the signed links inside emails.
PUBLIC_NAMES = {"login", "setup", "health", "track-open", "track-click", "unsubscribe",
                "public-invalid-link",
                "unsubscribe-one-click"}


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def concrete(route: str) -> str:
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str|slug|path|uuid):?\w*>", "x", route)
    route = re.sub(r"<\w+>", "x", route)
    route = route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "x", route)
    return "/" + route


def all_routes():
    return sorted({(concrete(route), name) for route, name in walk(get_resolver().url_patterns)
                   if not route.startswith("admin/")})


@pytest.mark.django_db
@pytest.mark.parametrize("url,name", all_routes())
def test_anonymous_visitors_are_turned_away(client, owner, url, name):
    if name in PUBLIC_NAMES:
        pytest.skip("public by design")

    response = client.get(url)

    if url.startswith("/api/"):
        assert response.status_code in (401, 403), url
    else:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), url


def test_the_walk_finds_the_pages_it_must_protect():
    names = {name for _url, name in all_routes()}

    assert {"overview", "customers", "segments", "campaigns", "uploads", "settings"} <= names
