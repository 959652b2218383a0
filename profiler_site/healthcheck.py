"""The web container's healthcheck: `python -m profiler_site.healthcheck` (docker-compose.yml).

Asks this container's own gunicorn for the anonymous `/health/` with a Host header
that production accepts (the first of DJANGO_ALLOWED_HOSTS): a request to
127.0.0.1 under its own name is refused by Django's host check with a 400.
/health/ is exempt from the https redirect (production settings), so plain http
on the loopback answers directly. Exit 0 only for a 200 whose body says ok.
"""

from __future__ import annotations

import http.client
import json
import os
import sys


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    # ".example.com" allows every subdomain; "*" allows anything: any name will do then.
    host = (hosts[0] if hosts else "localhost").lstrip(".").replace("*", "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", 8000, timeout=8)  # the image's CMD binds 8000
    try:
        conn.request("GET", "/health/", headers={"Host": host})
        response = conn.getresponse()
        body = response.read()
    except OSError as exc:
        print(f"health: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    try:
        ok = response.status == 200 and json.loads(body).get("status") == "ok"
    except ValueError:
        ok = False
    print(f"health: HTTP {response.status} {body[:200]!r}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
