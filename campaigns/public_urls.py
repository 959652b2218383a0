"""Public, signed endpoints reached from emails (no login): tracking and unsubscribe.

Only these names may be public (tests/test_every_url_requires_login.py);
the login middleware lets /t/ and /u/ through.
"""

from django.urls import path, re_path

from . import public_views

urlpatterns = [
    path("t/o/<str:token>.gif", public_views.track_open_view, name="track-open"),
    path("t/c/<str:token>", public_views.track_click_view, name="track-click"),
    path("u/<str:token>/", public_views.unsubscribe_view, name="unsubscribe"),
    path("u/<str:token>/one-click/", public_views.unsubscribe_one_click_view,
         name="unsubscribe-one-click"),
    # Anything else under /t/ or /u/ is a link a mail client cut short: the shop's
    # own "not valid" page, never the resolver's 404 (a debug page under DEBUG).
    re_path(r"^(?:t|u)/(?P<rest>.*)$", public_views.invalid_link_view,
            name="public-invalid-link"),
]
