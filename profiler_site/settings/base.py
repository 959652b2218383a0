"""Settings shared by every environment; all configuration comes from the environment.

`local.py` (make run), `test.py` (make test) and `production.py` (docker compose)
only change what differs. Secrets have no default outside local and test.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PROFILER_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "profiler_site.core",
    "ingest",
    "segments",
    "campaigns",
]

MIDDLEWARE = [
    # First: later middleware (https redirect, throttles) sees the real client.
    "profiler_site.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "profiler_site.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "profiler_site.core.middleware.UserLanguageMiddleware",
    "profiler_site.core.middleware.ShopTimeZoneMiddleware",
    "profiler_site.core.middleware.FirstRunMiddleware",
    "profiler_site.core.middleware.PagesLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "profiler_site.urls"
WSGI_APPLICATION = "profiler_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "profiler_site.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@/profiler?host=/tmp")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (profiler_site/core/login_throttle.py): this many wrong passwords
# per username or per client address are free; each one after doubles a delay.
LOGIN_FREE_FAILURES = env.int("LOGIN_FREE_FAILURES", default=5)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["profiler_site.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("SHOP_TIME_ZONE", default="UTC")
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="USD")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded files live outside the web root and are never served directly.
MEDIA_ROOT = Path(env.str("PROFILER_UPLOAD_DIR", default=str(VAR_DIR / "uploads")))
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_MB", default=500) * 1024 * 1024
# Rows per import transaction (and per checkpoint).
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=50_000)
# An import of at least this many lines that brings at least as many as are stored
# loads without two page indexes and builds them at its end (ingest/services/bulk_indexes.py).
IMPORT_BULK_LINES = env.int("IMPORT_BULK_LINES", default=200_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Addresses of the TLS proxy in front (CIDRs). Only from these are X-Forwarded-Proto
# (SECURE_PROXY_SSL_HEADER) and X-Forwarded-For (the client's address) believed.
PROFILER_TRUSTED_PROXIES = env.list("PROFILER_TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])
# First-run account creation asks for a one-time token printed in the server's log,
# except under `make run` on the loopback (runner.py sets PROFILER_LOOPBACK_RUN).
SETUP_TOKEN_REQUIRED = not env.bool("PROFILER_LOOPBACK_RUN", default=False)

SESSION_COOKIE_HTTPONLY = True
# Signed out after this long without a request (each request moves the expiry on).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=120) * 60
SESSION_SAVE_EVERY_REQUEST = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "SAMEORIGIN"

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Long, idempotent jobs: acknowledge only after the work is done, take one
# message at a time, and give the message back if the worker process dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged message after the visibility timeout, so
# every time limit stays below it; otherwise a slow job would run twice.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=2 * 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"segments.tasks.*": {"queue": "analysis"}}
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {
        "task": "profiler_site.core.tasks.reap_stale_jobs_task",
        "schedule": env.int("JOB_REAPER_INTERVAL_SECONDS", default=60),
    },
    # Indexes an import killed mid-load had set aside (ingest/services/bulk_indexes.py).
    "restore-import-indexes": {
        "task": "ingest.tasks.restore_indexes_task",
        "schedule": env.int("JOB_REAPER_INTERVAL_SECONDS", default=60),
    },
}
# Keeping only what is needed (ingest/services/retention.py, docs/privacy.md).
PRIVACY_DROP_FIELDS = env.list("PRIVACY_DROP_FIELDS", default=[])  # names, birth_year, gender, city
EVENT_PROPERTIES_ALLOWED = env.list("EVENT_PROPERTIES_ALLOWED", default=[
    "path", "page", "url", "referrer_domain", "sku", "product", "category", "quantity", "price",
    "value", "currency", "order_id", "search", "source", "medium", "campaign"])
UPLOADS_KEEP_DAYS = env.int("UPLOADS_KEEP_DAYS", default=30)
EVENTS_KEEP_MONTHS = env.int("EVENTS_KEEP_MONTHS", default=24)
CELERY_BEAT_SCHEDULE["purge-old-data"] = {
    "task": "ingest.tasks.purge_old_data_task",
    "schedule": 24 * 60 * 60,
}
# Backups (profiler_site/core/backups.py): `make backup`, and nightly from beat.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
if env.bool("BACKUP_NIGHTLY", default=True):
    from celery.schedules import crontab

    CELERY_BEAT_SCHEDULE["nightly-backup"] = {
        "task": "profiler_site.core.tasks.backup_task",
        "schedule": crontab(hour=env.int("BACKUP_HOUR", default=3), minute=0),
    }
# A running job whose heartbeat is older than this, and whose task no live
# worker reports as active, is taken as orphaned by a dead worker.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=120)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)

# A monitor that sends this value in an X-Health-Token header gets the deep /health/
# report (versions, timings, a worker canary); empty means only signed-in users do.
HEALTH_CHECK_TOKEN = env.str("HEALTH_CHECK_TOKEN", default="")

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Key first, so an anonymous call gets 401 with WWW-Authenticate.
        "profiler_site.core.api_keys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "profiler_site.core.api_keys.ApiKeyScopePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "profiler_site.core.api.exception_handler",
    # Our own budget in Redis (profiler_site/core/rate_limit.py), shared by all workers.
    "DEFAULT_THROTTLE_CLASSES": ["profiler_site.core.rate_limit.ApiThrottle"],
}
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=600)
# Per client address, over the open pixel, clicks and unsubscribe pages together.
TRACKING_REQUESTS_PER_MINUTE = env.int("TRACKING_REQUESTS_PER_MINUTE", default=120)
SPECTACULAR_SETTINGS = {
    "TITLE": "Profiler API",
    "DESCRIPTION": "Imports, customers, segments and campaigns of one shop.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; give each set of choices its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "profiler_site.core.models.JobStatus",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "RecipientStatusEnum": "campaigns.models.RecipientStatus",
    },
}

# --- Email --------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:8025")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@localhost")
# A user name and password go to the mail server only over TLS, unless this says otherwise.
EMAIL_ALLOW_PLAINTEXT_LOGIN = env.bool("EMAIL_ALLOW_PLAINTEXT_LOGIN", default=False)
EMAIL_TIMEOUT = 30
# Public base URL used in emails (tracking, unsubscribe links).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- Campaigns ----------------------------------------------------------------
CAMPAIGN_MAX_PER_SECOND = env.int("CAMPAIGN_MAX_PER_SECOND", default=50)  # per sending run; 0 = no limit
# Off by default: mail apps and scanners load images unread, so opens say little,
# and the pixel tells the shop when each person reads their mail.
CAMPAIGN_TRACK_OPENS = env.bool("CAMPAIGN_TRACK_OPENS", default=False)
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=100)
CAMPAIGN_RETRY_DELAYS = (1.0, 4.0, 15.0)  # seconds before each retry of a 4xx / dropped connection
SHOP_NAME = env.str("SHOP_NAME", default="")  # {{ shop_name }}; falls back to the campaign's From name

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

