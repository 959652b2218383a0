import pytest

from ingest.services.prefetch import prefetch


def test_prefetch_yields_every_item_in_order():
    assert list(prefetch(iter(range(100)), ahead=3)) == list(range(100))


def test_an_error_in_the_producer_is_raised_in_the_consumer_after_the_good_items():
    def items():
        yield 1
        yield 2
        raise ValueError("broken file")

    seen = []
    with pytest.raises(ValueError, match="broken file"):
        for item in prefetch(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_does_not_hang():
    def endless():
        n = 0
        while True:
            n += 1
            yield n

    for item in prefetch(endless()):
        if item == 5:
            break
    assert item == 5
