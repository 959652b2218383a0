"""DataFrames as CSV for PostgreSQL's COPY, written by Arrow's compiled CSV writer.

pandas' `to_csv` formats numbers and timestamps one Python object at a time; at
100k+ rows that costs seconds. Arrow writes the same CSV several times faster.
Strings are always quoted, so an empty string stays '' and a missing value,
written unquoted, is NULL (also under COPY's `NULL ''`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def csv_for_copy(columns: dict[str, pd.Series | pa.Array]) -> bytes:
    """CSV bytes, one column per entry, in order; NaN and None become NULL."""
    arrays = {}
    for name, values in columns.items():
        array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
        if pa.types.is_dictionary(array.type):  # categoricals: their values, not codes
            array = array.cast(array.type.value_type)
        arrays[name] = array
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(arrays), sink, write_options=_WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()


def frame_csv_for_copy(frame: pd.DataFrame, columns: Sequence[str]) -> bytes:
    return csv_for_copy({name: frame[name] for name in columns})


def copy_csv(cursor, table: str, columns: Sequence[str], data: bytes) -> None:
    """COPY CSV bytes (from `csv_for_copy`) into `table`, inside the cursor's transaction."""
    # The raw psycopg2 cursor: Django's debug wrapper does not pass `size` on. One read
    # of the whole buffer: in 8 kB blocks (the default) each block waits for the GIL,
    # which an import's reader thread holds while it parses the next chunk.
    cursor.cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)",
        io.BytesIO(data), size=len(data),
    )
