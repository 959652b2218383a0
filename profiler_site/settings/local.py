"""`make run`: the embedded PostgreSQL and Redis, mail to the local inbox."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed local key is fine here: this server only listens on 127.0.0.1.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-deploy")
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing  # noqa: F405
