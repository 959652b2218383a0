"""The loader's two routes: orders new to the run copied straight in, the others merged
through staging; and how a chunk that meets a stored order moves the run to staging."""

import pytest
from django.db import connection, transaction

from ingest.models import Order
from ingest.services.fresh_orders import copy_fresh_orders
from ingest.services.loading import _order_id_sequence, load_chunk, staging_data
from ingest.services.run_memory import RunMemory
from tests.ingest.helpers_db import orphan_rows
from tests.ingest.pipeline.helpers import ingest_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def _frame(rows: bytes):
    return ingest_bytes(b"order_id,email,ordered_at,sku,line_total\n" + rows).frame


def _load(rows: bytes, memory: RunMemory, job_id: int):
    data = staging_data(_frame(rows), memory=memory)
    with transaction.atomic():
        return data, load_chunk(data=data, job_id=job_id, memory=memory)


def test_new_orders_are_copied_in_and_a_stored_order_sends_its_chunk_through_staging():
    first_run = RunMemory()
    data, counts = _load(b"A1,ann@example.com,2024-01-01,S1,10\n"
                         b"A2,bob@example.com,2024-01-02,S1,5\n"
                         b"A2,bob@example.com,2024-01-02,S2,7\n", first_run, job_id=1)
    assert len(data.fresh) == 2  # both orders took the copy route
    assert (counts.orders_created, counts.lines_created, counts.customers_created) == (2, 3, 2)
    assert first_run.copy_fresh

    # A later export repeats A2 beside a new order: the copy fails on A2's key and
    # the chunk merges through staging instead, A2's other line untouched.
    later_run = RunMemory()
    data, counts = _load(b"A2,bob@example.com,2024-01-02,S1,6\n"
                         b"N1,cy@example.com,2024-02-01,S1,3\n", later_run, job_id=2)
    assert len(data.fresh) == 2
    assert (counts.orders_created, counts.orders_existing, counts.lines_created) == (1, 1, 1)
    assert not later_run.copy_fresh  # the next chunk is staged straight away...

    data, counts = _load(b"N2,cy@example.com,2024-02-02,S1,4\n", later_run, job_id=2)
    assert data.fresh is None and counts.orders_created == 1
    assert later_run.copy_fresh  # ...and met no stored order: back to copying

    totals = dict(Order.objects.values_list("order_key", "gross_total"))
    assert totals == {"A1": 10, "A2": 13, "N1": 3, "N2": 4}
    assert Order.objects.get(order_key="A2").lines.count() == 2
    assert orphan_rows() == (0, 0)


def test_an_order_straddling_two_chunks_of_a_run_is_merged_not_refused():
    memory = RunMemory()
    _load(b"S1,ann@example.com,2024-01-01,P1,2\n", memory, job_id=1)

    data, counts = _load(b"S1,ann@example.com,2024-01-01,P2,3\n"
                         b"S2,ann@example.com,2024-01-05,P1,4\n", memory, job_id=1)

    assert data.fresh.orders["order_key"].to_pylist() == ["S2"]
    assert (counts.orders_created, counts.orders_existing, counts.lines_created) == (1, 0, 2)
    assert memory.copy_fresh  # an order of this very import is not an overlap
    assert Order.objects.get(order_key="S1").gross_total == 5


def test_the_copy_route_writes_new_orders_and_refuses_a_chunk_with_a_stored_one_whole():
    memory = RunMemory()
    _load(b"A1,ann@example.com,2024-01-01,S1,10\n", memory, job_id=1)
    new = staging_data(_frame(b"B1,ann@example.com,2024-01-02,S1,4\n"), memory=RunMemory())
    with_stored = staging_data(_frame(b"A1,ann@example.com,2024-01-01,S1,10\n"
                                      b"C1,ann@example.com,2024-01-03,S1,3\n"), memory=RunMemory())

    with transaction.atomic(), connection.cursor() as cursor:
        sequence = _order_id_sequence(cursor)
        refused = copy_fresh_orders(cursor, with_stored.fresh, job_id=2, sequence=sequence,
                                    memory=memory)
        copied = copy_fresh_orders(cursor, new.fresh, job_id=2, sequence=sequence, memory=memory)

    assert (refused, copied) == (False, True)
    assert sorted(Order.objects.values_list("order_key", flat=True)) == ["A1", "B1"]  # no C1
    assert Order.objects.get(order_key="B1").lines.get().line_total == 4


def test_copied_orders_take_one_block_of_ids_that_later_orders_follow():
    memory = RunMemory()
    _load(b"K3,ann@example.com,2024-01-03,S1,1\n"
          b"K1,bob@example.com,2024-01-01,S1,2\n"
          b"K2,cy@example.com,2024-01-02,S1,3\n", memory, job_id=1)
    _load(b"K4,ann@example.com,2024-01-04,S1,4\n", memory, job_id=1)
    _load(b"K1,bob@example.com,2024-01-01,S2,5\n"  # stored already: the staging route
          b"K5,bob@example.com,2024-01-05,S1,6\n", RunMemory(), job_id=2)

    ids = dict(Order.objects.values_list("order_key", "id"))
    # In key order within a chunk, consecutive, and never reused by either route.
    assert ids["K2"] == ids["K1"] + 1 and ids["K3"] == ids["K2"] + 1
    assert ids["K4"] > ids["K3"] and ids["K5"] > ids["K4"]
    assert len(set(ids.values())) == 5

