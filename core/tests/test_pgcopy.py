"""``core.pgcopy``: rows built by NumPy read back by PostgreSQL exactly (COPY ... FORMAT binary)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection, transaction

from core import pgcopy

pytestmark = pytest.mark.django_db

COLUMNS = [("id", "int8"), ("k", "int2"), ("n", "int4"), ("x", "float8"), ("ok", "bool"),
           ("day", "date")]  # fmt: skip


def test_it_copies_every_fixed_width_type_exactly_and_nan_for_null() -> None:
    values = {
        "id": np.array([1, 2**40, -3]),
        "k": np.array([0, 7, -1]),
        "n": np.array([5, -(2**31), 2**31 - 1]),
        "x": np.array([0.1, -1.2345678901234567e-300, np.nan]),
        "ok": np.array([True, False, True]),
        "day": pgcopy.days(np.array(["2000-01-01", "2025-07-09", "1999-12-31"])),
    }
    payload = pgcopy.binary_copy(COLUMNS, values)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copy_probe (id int8, k int2, n int4, x float8, ok bool,"
                    " day date) ON COMMIT DROP")  # fmt: skip
        with cur.cursor.copy("COPY copy_probe FROM STDIN (FORMAT binary)") as copy:
            copy.write(payload)
        cur.execute("SELECT id, k, n, x, NULLIF(x, 'NaN'), ok, day FROM copy_probe ORDER BY id")
        rows = cur.fetchall()
    assert [r[:3] for r in rows] == [(-3, -1, 2**31 - 1), (1, 0, 5), (2**40, 7, -(2**31))]
    assert rows[1][3] == 0.1 and rows[2][3] == -1.2345678901234567e-300  # bit for bit
    assert np.isnan(rows[0][3]) and rows[0][4] is None  # NaN travels, NULLIF makes it NULL
    assert [r[5] for r in rows] == [True, True, False]
    assert [r[6] for r in rows] == [dt.date(1999, 12, 31), dt.date(2000, 1, 1),
                                    dt.date(2025, 7, 9)]  # fmt: skip


def test_it_writes_an_empty_stream_for_no_rows() -> None:
    payload = pgcopy.binary_copy(COLUMNS, {name: np.array([]) for name, _ in COLUMNS})
    assert payload == pgcopy.HEADER + pgcopy.TRAILER
