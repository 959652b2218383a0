"""The Celery application: one broker (Redis), two queues.

`default` takes short work (imports, sending, canaries); `analysis` takes the
heavy clustering and model fitting so a long refresh never delays an import.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "profiler_site.settings.local")

app = Celery("profiler")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
