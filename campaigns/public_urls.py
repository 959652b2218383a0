"""Public, signed endpoints reached from emails (no login): tracking and unsubscribe.

Only these four names may be public (tests/test_every_url_requires_login.py);
the login middleware lets /t/ and /u/ through.
"""

from django.urls import path

from . import public_views

urlpatterns = [
    path("t/o/<str:token>.gif", public_views.track_open_view, name="track-open"),
    path("t/c/<str:token>", public_views.track_click_view, name="track-click"),
    path("u/<str:token>/", public_views.unsubscribe_view, name="unsubscribe"),
    path("u/<str:token>/one-click/", public_views.unsubscribe_one_click_view,
         name="unsubscribe-one-click"),
]
