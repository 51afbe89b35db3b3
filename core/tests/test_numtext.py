"""core.numtext against Python's own float formatting and parsing."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

from core.numtext import json_object_rows, number_texts

SPECIAL = [0.0, -0.0, 1.0, -2.5, 1e-7, 123456789.0, 1e16, 3.4e38, 5e-324, 0.1, 1 / 3]


def _values(dtype: type) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.standard_normal(2002) * 10.0 ** rng.integers(-8, 9, 2002), SPECIAL])
    return x.astype(dtype)


def test_it_writes_float64_as_the_shortest_text_repr_would_read_back():
    x = _values(np.float64)
    texts = number_texts(x.reshape(-1, 11))
    assert [float(t) for t in texts] == x.tolist()
    # the same shortest digits as repr, whatever the notation (0.000049 vs 4.9e-05, 1e-7 vs 1e-07)
    assert [Decimal(t) for t in texts] == [Decimal(repr(v)) for v in x.tolist()]


def test_it_writes_float32_as_the_shortest_text_of_the_float32():
    x = _values(np.float32)
    texts = number_texts(x)
    np.testing.assert_array_equal(np.array(texts, dtype=np.float64).astype(np.float32), x)
    # shorter than the float64 text of the same value where float32 needs fewer digits
    assert number_texts(np.array([0.1], np.float32)) == ["0.1"]
    assert repr(float(np.float32(0.1))) == "0.10000000149011612"


def test_it_names_missing_and_infinite_values():
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    assert number_texts(x) == ["null", "inf", "-inf", "2.0"]
    assert number_texts(x.astype(np.float32), missing="nan") == ["nan", "inf", "-inf", "2.0"]
    assert json.loads("[" + ",".join(number_texts(np.array([np.nan, 1.5]))) + "]") == [None, 1.5]


def test_it_reads_other_dtypes_as_float64_and_empty_as_nothing():
    assert number_texts(np.array([[1, 2], [3, 4]], dtype=np.int64)) == ["1.0", "2.0", "3.0", "4.0"]
    assert number_texts(np.empty((0, 5))) == []


def test_it_writes_rows_as_json_objects_under_their_names():
    names = ["a", 'q"uote', "100%", "nan"]
    values = np.array([[1.5, np.nan, 3.0, -0.25], [np.nan, 2.0, 1e-7, 4.0], [0.0, 0.0, 0.0, 0.0]])
    got = json.loads(json_object_rows(names, values))
    want = [
        {n: (None if v != v else v) for n, v in zip(names, row, strict=True)}
        for row in values.tolist()
    ]
    assert got == want


def test_it_writes_empty_rows_and_rejects_a_name_count_that_does_not_fit():
    assert json_object_rows(["a"], np.empty((0, 1))) == "[]"
    assert json.loads(json_object_rows([], np.empty((2, 0)))) == [{}, {}]
    with pytest.raises(ValueError, match="2 columns for 1 names"):
        json_object_rows(["a"], np.zeros((3, 2)))
