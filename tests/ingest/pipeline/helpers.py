"""Runs bytes through the pipeline the way the app does: name, size, open, map, read."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from ingest.pipeline.files import check_size, open_upload
from ingest.pipeline.mapping import ProposedMapping, propose_mapping
from ingest.pipeline.rows import Rejection, read_rows
from ingest.pipeline.table import DEFAULT_OPTIONS, ReadOptions, open_table

HEADER = "order_id,email,name,ordered_at,sku,quantity,unit_price\n"
GOOD_1 = "1001,ann@example.com,Ann Lee,2024-01-05 10:00,COF-1,2,12.50\n"
GOOD_2 = "1002,bob@example.com,Bob Ray,2024-01-06 11:00,TEA-1,1,5.00\n"


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    proposed: ProposedMapping
    frame: pd.DataFrame
    rejections: tuple[Rejection, ...]
    notes: Counter[str]
    chunks: int
    identical_money: Decimal


def ingest_bytes(
    data: bytes,
    name: str = "orders.csv",
    *,
    limit: int = 50 * 1024**2,
    options: ReadOptions = DEFAULT_OPTIONS,
    chunk_rows: int = 50_000,
) -> Outcome:
    check_size(len(data), limit)
    with open_upload(io.BytesIO(data), name) as stream:
        proposed = propose_mapping(open_table(stream, options).raw_headers)
    frames: list[pd.DataFrame] = []
    rejections: list[Rejection] = []
    notes: Counter[str] = Counter()
    chunks = 0
    identical_money = Decimal(0)
    with open_upload(io.BytesIO(data), name) as stream:
        for chunk in read_rows(stream, proposed.to_mapping(), options, chunk_rows=chunk_rows):
            frames.append(chunk.frame)
            rejections.extend(chunk.rejections)
            notes.update(chunk.notes)
            chunks += 1
            identical_money += chunk.identical_money
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Outcome(
        proposed=proposed, frame=frame, rejections=tuple(rejections), notes=notes, chunks=chunks,
        identical_money=identical_money,
    )
