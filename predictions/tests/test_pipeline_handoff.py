"""Features -> inference handoff: the one-value feature matrix, and the hash fallback."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from features import handoff
from predictions.benchmarks.universe import cycle_input, make_symbols, write_features
from predictions.pipeline import sources

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 7, 8)
TICKERS = ["AAA", "BBB", "CCC", "DDD"]


def test_it_reads_the_matrix_back_bit_for_bit(redis_client):
    inp = cycle_input(DAY, TICKERS, nan_share=0.0)
    inp.X[1, 30] = np.nan  # a missing earnings feature stays missing
    handoff.write_matrix(redis_client, inp, inp.feature_names)
    assert 0 < redis_client.ttl(handoff.MATRIX_KEY.format("2025-07-08")) <= 300
    got = sources.from_redis(redis_client, DAY, tickers=["AAA", "BBB", "CCC"])
    assert got.tickers.tolist() == ["AAA", "BBB", "CCC"]
    np.testing.assert_array_equal(got.X, inp.X[:3])
    np.testing.assert_array_equal(got.close, inp.close[:3])
    assert got.feature_names == inp.feature_names


def test_it_drops_rows_without_a_close_or_a_technical_feature(redis_client):
    inp = cycle_input(DAY, TICKERS, nan_share=0.0)
    inp.close[0] = np.nan
    inp.X[2, 5] = np.nan  # return_252d: a technical feature
    handoff.write_matrix(redis_client, inp, inp.feature_names)
    assert sources.from_redis(redis_client, DAY).tickers.tolist() == ["BBB", "DDD"]


def test_it_falls_back_to_the_per_symbol_hashes(redis_client):
    make_symbols(TICKERS)
    inp = cycle_input(DAY, TICKERS)
    write_features(redis_client, inp)
    got = sources.from_redis(redis_client, DAY, names=inp.feature_names)
    assert got.tickers.tolist() == TICKERS
    np.testing.assert_allclose(got.X, inp.X, equal_nan=True)
    assert sources.from_redis(redis_client, dt.date(2025, 7, 9)).tickers.size == 0
