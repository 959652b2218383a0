"""The embedded PostgreSQL that `make run` and `make test` start carries our server settings."""

from pathlib import Path

import pytest
from django.db import connection

from profiler_site import local_services
from profiler_site.testing import pytest_services


def test_settings_are_written_once_and_included_by_the_cluster_config(tmp_path: Path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("max_connections = 100\n")

    local_services.write_server_settings(tmp_path)
    local_services.write_server_settings(tmp_path)

    assert conf.read_text().count("include_if_exists = 'profiler.conf'") == 1
    assert conf.read_text().startswith("max_connections = 100\n")
    assert (tmp_path / "profiler.conf").read_text() == "wal_buffers = '64MB'\n"


@pytest.mark.django_db
def test_the_embedded_server_runs_with_them():
    if "postgres" not in pytest_services._started:
        pytest.skip("DATABASE_URL names an external server; its settings are its own")
    with connection.cursor() as cursor:
        for name, value in local_services.SERVER_SETTINGS.items():
            cursor.execute(f"SHOW {name}")
            assert cursor.fetchone()[0] == value


def test_the_local_key_is_made_once_per_install_and_kept_private(tmp_path: Path):
    import stat

    first = local_services.local_secret_key(tmp_path / "var")
    again = local_services.local_secret_key(tmp_path / "var")
    other_install = local_services.local_secret_key(tmp_path / "other")

    assert first == again and first != other_install and len(first) >= 50
    mode = stat.S_IMODE((tmp_path / "var" / local_services.LOCAL_KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == [local_services.LOCAL_KEY_FILE]


def test_make_run_settings_use_the_installs_key_not_a_fixed_string(tmp_path: Path):
    import os
    import subprocess
    import sys

    from tests.support import BASE_DIR

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "profiler_site.settings.local",
                "PROFILER_VAR_DIR": str(tmp_path / "var")})
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    keys = [subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, check=True,
                           capture_output=True, text=True).stdout.strip() for _ in range(2)]

    assert keys[0] == keys[1] == local_services.local_secret_key(tmp_path / "var")
