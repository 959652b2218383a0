"""`make run`: the embedded PostgreSQL and Redis, mail to the local inbox."""

from profiler_site.local_services import local_secret_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Made once per install and kept in var/ (backed up with the data it signs).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret_key(VAR_DIR)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing  # noqa: F405
