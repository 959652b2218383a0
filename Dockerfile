# Production image: gunicorn + whitenoise for web, the same image for worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=profiler_site.settings.production \
    PROFILER_VAR_DIR=/data

RUN useradd --create-home --uid 1000 profiler && mkdir -p /data && chown profiler /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY profiler_site ./profiler_site
COPY ingest ./ingest
COPY segments ./segments
COPY campaigns ./campaigns
COPY flows ./flows
RUN pip install --no-cache-dir .
# Named folders only (and .dockerignore as a second net): never .env, var/, .venv or .git.
COPY manage.py ./
COPY templates ./templates
COPY static ./static
COPY locale ./locale
# collectstatic needs settings that import; the key here is a build-time dummy.
RUN DJANGO_SECRET_KEY=build-only-$(head -c 40 /dev/urandom | base64 | tr -dc a-zA-Z0-9) \
    DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://x@localhost/x \
    python manage.py collectstatic --noinput && python manage.py compilemessages --ignore=.venv || true
USER profiler
EXPOSE 8000
CMD ["gunicorn", "profiler_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--timeout", "120"]
