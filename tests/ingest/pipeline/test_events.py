from __future__ import annotations

import io

import pandas as pd
import pytest

from ingest.pipeline.errors import FileRejected
from ingest.pipeline.events import read_events

EVENTS = (
    "customer,type,time,properties,page\n"
    'Ann@Example.com,Page View,2024-01-01 10:00,"{""sku"": ""COF-1""}",/coffee\n'
    "17850,email_open,2024-01-02T08:00:00Z,,\n"
    ",click,2024-01-02,,\n"
    "b@example.com,click,2024-01-02,[1],\n"
    "b@example.com,click,2024-02-30,,\n"
)


def test_events_are_read_with_properties_from_json_and_extra_columns() -> None:
    chunks = list(read_events(io.BytesIO(EVENTS.encode())))
    frame = chunks[0].frame

    assert frame["customer_key"].tolist() == ["ann@example.com", "id:17850"]
    assert frame["event_type"].tolist() == ["page view", "email_open"]
    assert frame["properties"].tolist() == [{"sku": "COF-1", "page": "/coffee"}, {}]
    assert frame["occurred_at"].iloc[1] == pd.Timestamp("2024-01-02 08:00", tz="UTC")
    assert [(r.line_no, r.reason) for r in chunks[0].rejections] == [
        (4, "no customer: the customer cell is empty"),
        (5, 'properties must be a JSON object like {"key": "value"}'),
        (6, "event time '2024-02-30' is not a real date"),
    ]


def test_an_events_file_without_a_time_column_is_refused() -> None:
    with pytest.raises(FileRejected) as caught:
        list(read_events(io.BytesIO(b"customer,type\na@example.com,click\n")))
    assert "could not find: time" in caught.value.reason
