"""`make backup` and `make restore FILE=...`: manage.py backup/restore on the local data folder.

Without DATABASE_URL this starts the embedded PostgreSQL of `var/pgdata` (creating
an empty one for a restore into an empty folder) and stops it again afterwards,
unless `make run` already had it running.
"""

from __future__ import annotations

import os
import subprocess
import sys

from profiler_site.runner import BASE_DIR, VAR_DIR

from . import local_services


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("backup", "restore") or (argv[0] == "restore" and len(argv) != 2):
        print("usage: python -m profiler_site.maintenance backup | restore FILE", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "profiler_site.settings.local")
    env.setdefault("PROFILER_VAR_DIR", str(VAR_DIR))
    postgres = None
    if not env.get("DATABASE_URL"):
        pgdata = VAR_DIR / "pgdata"
        already_running = (pgdata / "postmaster.pid").exists()
        started = local_services.start_postgres(pgdata)
        env["DATABASE_URL"] = started.url()
        postgres = None if already_running else started
    try:
        return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *argv], env=env,
                              check=False).returncode
    finally:
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
