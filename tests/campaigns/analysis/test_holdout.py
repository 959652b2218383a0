import pytest

from campaigns.analysis.holdout import holdout_size, split_holdout


@pytest.mark.parametrize(
    ("n", "share", "expected"),
    [
        (1000, 0.10, 100),
        (1200, 0.10, 120),
        (25, 0.10, 3),  # 2.5 rounds half up
        (35, 0.10, 4),
        (14, 0.10, 1),
        (10, 0.01, 1),  # at least one once there are ten people
        (9, 0.01, 0),
        (9, 0.10, 1),
        (5, 0.10, 1),  # 0.5 rounds up
        (4, 0.10, 0),
        (100, 0.0, 0),
        (0, 0.10, 0),
        (2, 0.9, 1),  # never the whole audience
        (1, 0.9, 0),
    ],
)
def test_the_holdout_has_exactly_the_rounded_size(n, share, expected):
    assert holdout_size(n, share) == expected
    assert len(split_holdout(list(range(n)), share, seed=1).holdout_ids) == expected


@pytest.mark.parametrize("share", [-0.1, 1.0, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError):
        split_holdout([1, 2, 3], share, seed=1)


def test_the_groups_are_disjoint_and_cover_everyone():
    ids = list(range(1, 1001))

    split = split_holdout(ids, 0.1, seed=42)

    assert set(split.treatment_ids).isdisjoint(split.holdout_ids)
    assert sorted(split.treatment_ids + split.holdout_ids) == ids


def test_the_same_seed_gives_the_same_split_whatever_the_input_order():
    ids = list(range(500))

    first = split_holdout(ids, 0.1, seed=7)
    again = split_holdout(list(reversed(ids)), 0.1, seed=7)

    assert first == again


def test_a_different_seed_gives_a_different_split():
    ids = list(range(500))

    assert (
        split_holdout(ids, 0.1, seed=7).holdout_ids != split_holdout(ids, 0.1, seed=8).holdout_ids
    )


def test_the_holdout_is_spread_over_the_ids_not_taken_from_one_end():
    split = split_holdout(list(range(10000)), 0.1, seed=3)

    low_half = sum(1 for cid in split.holdout_ids if cid < 5000)
    assert 400 < low_half < 600


def test_duplicate_customers_are_refused():
    with pytest.raises(ValueError):
        split_holdout([1, 2, 2, 3], 0.1, seed=1)
