"""Which customers of a chunk the loader upserts (pure; no database)."""

import pandas as pd

from ingest.services.loading import _mark_changed_customers
from ingest.services.run_memory import HashMemory


def _customers(city_of_ann: str) -> pd.DataFrame:
    return pd.DataFrame({"customer_key": ["ann@example.com", "bob@example.com"],
                         "first_name": ["Ann", None], "city": [city_of_ann, "York"]})


def test_only_customers_new_to_the_import_or_with_changed_details_are_flagged():
    seen = HashMemory()

    first = _mark_changed_customers(_customers("Leeds"), seen)
    repeat = _mark_changed_customers(_customers("Leeds"), seen)
    moved = _mark_changed_customers(_customers("Bath"), seen)

    assert first["changed"].tolist() == [True, True]
    assert repeat["changed"].tolist() == [False, False]
    assert moved["changed"].tolist() == [True, False]


def test_without_a_memory_every_customer_is_upserted():
    assert _mark_changed_customers(_customers("Leeds"), None)["changed"].tolist() == [True, True]
