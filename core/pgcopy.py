"""PostgreSQL's binary COPY format for fixed-width columns, built with one NumPy structured array
(no per-row Python, no number formatting; binary float8 is exact).

Each row is: the field count (int16), then per field its byte length (int32) and its value,
big-endian. Only fixed-width types are supported, so every row has the same layout; a NULL
would need a length of -1 and no value, so callers send NaN for a missing float8 and turn it
into NULL in SQL (``NULLIF(x, 'NaN')``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

PG_EPOCH = np.datetime64("2000-01-01", "D")  # binary dates are days since this day
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)

# PostgreSQL type -> NumPy field (big-endian; bool is one byte 0/1; date is int4 days).
FIELDS = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "bool": "?", "date": ">i4"}


def row_dtype(columns: Sequence[tuple[str, str]]) -> np.dtype:
    """The structured dtype of one row of ``columns`` ((name, PostgreSQL type) pairs)."""
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, pg_type in columns:
        fields += [(f"len_{name}", ">i4"), (name, FIELDS[pg_type])]
    return np.dtype(fields)


def binary_copy(columns: Sequence[tuple[str, str]], values: Mapping[str, np.ndarray]) -> bytes:
    """The rows (``values``: one array per column name, all of one length) as a whole binary
    COPY stream: header, rows, trailer."""
    dtype = row_dtype(columns)
    n = len(values[columns[0][0]]) if columns else 0
    rows = np.empty(n, dtype=dtype)
    rows["nfields"] = len(columns)
    for name, _ in columns:
        rows[f"len_{name}"] = dtype[name].itemsize
        rows[name] = values[name]
    return HEADER + rows.tobytes() + TRAILER


def days(dates: np.ndarray) -> np.ndarray:
    """Dates (anything NumPy reads as datetime64[D]) as binary COPY ``date`` values."""
    day_numbers: np.ndarray = (dates.astype("datetime64[D]") - PG_EPOCH).astype("int64")
    return day_numbers
