"""COPY input written by Arrow lands in PostgreSQL as the same values."""

from datetime import UTC, datetime

import pandas as pd
import pytest
from django.db import connection

from profiler_site.core.csv_copy import copy_csv, csv_for_copy, timestamptz_text


@pytest.mark.django_db
def test_zoned_timestamps_arrive_as_the_same_instants():
    times = pd.Series(pd.to_datetime([
        "2024-03-31 01:59:59.999999+01:00",  # the night clocks go forward in Europe
        "2024-10-27 02:30:00+02:00",
        "1999-12-31 23:00:00-05:00",
        None,
    ], utc=True, format="ISO8601").tz_convert("Europe/Amsterdam"))

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (at timestamptz)")
        copy_csv(cursor, "copied", ["at"], csv_for_copy({"at": timestamptz_text(times)}))
        cursor.execute("SELECT at FROM copied")
        stored = [at for (at,) in cursor.fetchall()]

    assert stored == [datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=UTC),
                      datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
                      datetime(2000, 1, 1, 4, 0, tzinfo=UTC), None]
