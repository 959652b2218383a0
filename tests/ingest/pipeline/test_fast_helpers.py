"""The fast path's helpers with non-obvious behaviour, against the simple forms they replace."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ingest.pipeline import fast
from tests.ingest.pipeline.test_fast import assert_same_results
from tests.ingest.pipeline.test_hostile_input import CASES


def test_key_runs_answer_like_a_set_while_runs_merge() -> None:
    rng = np.random.default_rng(3)
    runs = fast._KeyRuns()
    reference: set[int] = set()
    for size in [5, 1, 0, 40, 3, 3, 3, 200, 7, 1000, 2]:
        # Small key range: many keys repeat across chunks.
        keys = np.unique(rng.integers(-300, 300, size=size))
        found = runs.contains(keys)
        assert found.tolist() == [int(k) in reference for k in keys]
        runs.add(keys[~found])
        reference.update(keys.tolist())
        assert all((run[1:] > run[:-1]).all() for run in runs.keys)
    assert len(runs.keys) <= 4
    assert sorted(np.concatenate(runs.keys).tolist()) == sorted(reference)


def test_key_runs_take_extreme_keys() -> None:
    runs = fast._KeyRuns()
    edge = np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max], dtype=np.int64)
    runs.add(edge[[3, 0]])
    assert runs.contains(edge).tolist() == [True, False, False, True]


def test_order_owners_keep_the_first_owner_of_each_id() -> None:
    owners = fast._OrderOwners()
    reference: dict[str, tuple[str, int]] = {}
    rng = random.Random(9)
    for chunk in range(30):
        ids = list(dict.fromkeys(f"#{rng.randint(0, 60)}" for _ in range(rng.randint(0, 25))))
        if not ids:
            continue
        keys = np.array([f"c{rng.randint(0, 5)}@example.com" for _ in ids], dtype=object)
        lines = np.arange(chunk * 100, chunk * 100 + len(ids), dtype=np.int64)
        owner_key, owner_line = owners.claim(np.array(ids, dtype=object), keys, lines)
        for i, order_id in enumerate(ids):
            expected = reference.setdefault(order_id, (keys[i], int(lines[i])))
            assert (owner_key[i], int(owner_line[i])) == expected


def test_order_owners_tell_apart_ids_with_one_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every id hashes alike: only the exact comparison keeps them apart.
    monkeypatch.setattr(fast, "hash", lambda value: 42, raising=False)
    owners = fast._OrderOwners()
    first = owners.claim(
        np.array(["a", "b"], dtype=object),
        np.array(["k1", "k2"], dtype=object),
        np.array([2, 3], dtype=np.int64),
    )
    again = owners.claim(
        np.array(["c", "b", "a"], dtype=object),
        np.array(["k3", "k9", "k9"], dtype=object),
        np.array([7, 8, 9], dtype=np.int64),
    )
    assert first[0].tolist() == ["k1", "k2"]
    assert again[0].tolist() == ["k3", "k2", "k1"]
    assert again[1].tolist() == [7, 3, 2]


_ALPHABET = "aZ@. _%+'-=\t\x0b\x1c\x01\x7f~0<>;:é"


def _random_values(rng: random.Random) -> list[str]:
    values = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 7))) for _ in range(8)]
    values += [
        f"{rng.choice(['', ' ', 'A'])}u{rng.choice(['', '.x', '..y', '_'])}@"
        f"{rng.choice(['', '.', 'ex', 'ex.com', 'e_x.com', 'ex..com', 'ex.com.', '-.a'])}"
        f"{rng.choice(['', ' '])}"
        for _ in range(4)
    ]
    return list(dict.fromkeys(values))


@pytest.mark.parametrize("seed", range(5))
def test_bulk_character_tests_agree_with_the_patterns(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        values = _random_values(rng)
        assert fast._blank_values(values).tolist() == fast._matching(values, fast._BLANK).tolist()
        assert (
            fast._not_plain_values(values).tolist()
            == fast._matching(values, fast._NOT_PLAIN).tolist()
        )
        ascii_values = fast._AsciiValues.of(values)
        if ascii_values is None:
            continue
        unsure = fast._unsure_emails(ascii_values)
        by_pattern = np.zeros(len(values), dtype=bool)
        by_pattern[fast._matching(values, fast._NOT_SIMPLE_EMAIL)] = True
        # Never simpler than the pattern says; as simple for plain addresses.
        assert not (by_pattern & ~unsure).any()
        plain = ~by_pattern & np.array([" " not in v and ".." not in v for v in values])
        assert not (unsure & plain).any()


def test_ascii_values_leave_other_text_to_the_patterns() -> None:
    assert fast._AsciiValues.of(["a", "é"]) is None
    assert fast._AsciiValues.of(["a\nb", "c"]) is None
    assert fast._AsciiValues.of([""]) is None
    assert fast._blank_values(["", " \xa0", "x"]).tolist() == [0, 1]


@pytest.mark.parametrize("chunk_rows", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_chunk_of_only_broken_records_is_cleaned(case, chunk_rows: int) -> None:  # type: ignore[no-untyped-def]
    assert_same_results(case.data, name=case.name, limit=case.limit, chunk_rows=chunk_rows)
