"""`identities` reads what `id()` would give for each element of an object array."""

from decimal import Decimal

import numpy as np

from ingest.pipeline.identities import identities


def test_the_identities_are_the_ids_of_the_elements_even_of_a_strided_view():
    shared = Decimal("1.50")
    values = np.array([shared, "a", None, shared, Decimal("1.5"), 7], dtype=object)

    for array in (values, values[::2], values[:0]):
        assert identities(array).tolist() == [id(v) for v in array]
    found = identities(values)
    assert found[0] == found[3] and found[0] != found[4]  # equal values, other objects
