from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from ingest.services.fresh_orders import cents_sum

pytestmark = pytest.mark.django_db

HALF = Decimal("0.125")


def test_the_sum_of_new_orders_is_the_sum_postgresql_holds_once_each_is_rounded_to_the_cent():
    # One object shared by several orders (as the reader shares them), halves both ways.
    values = [HALF, HALF, Decimal("1.005"), Decimal("-0.125"), Decimal("2"), None,
              Decimal("19.994")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(v::numeric(14, 2)) FROM unnest(%s::numeric[]) v",
                       [[v for v in values if v is not None]])
        stored = cursor.fetchone()[0]

    # 0.13 + 0.13 + 1.01 - 0.13 + 2.00 + 19.99
    assert cents_sum(np.array(values, dtype=object)) == stored == Decimal("23.13")
    assert cents_sum(np.array([], dtype=object)) == 0
