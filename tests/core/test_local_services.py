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
