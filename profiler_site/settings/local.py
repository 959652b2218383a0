"""`make run`: the embedded PostgreSQL and Redis, mail to the local inbox.

DEBUG is off by default: `make run` is how an owner runs the product, and a
customer following a mangled email link must never see Django's debug page.
Static files are collected, compressed and served with long cache headers, as
in production (the runner calls collectstatic). `DJANGO_DEBUG=true` turns the
developer conveniences back on.
"""

from profiler_site.local_services import local_secret_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Made once per install and kept in var/ (backed up with the data it signs).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret_key(VAR_DIR)
if DEBUG:
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing  # noqa: F405
