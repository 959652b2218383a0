"""`make test`: real PostgreSQL and Redis started once per pytest session."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key-not-secret-abcdefghijklmnopqrstuvwxyz-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGIN_FREE_FAILURES = 3
# Tests run as `make run` on the loopback; tests/core/test_first_run.py turns the token on.
SETUP_TOKEN_REQUIRED = False
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=3)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
