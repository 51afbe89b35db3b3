"""Redis feature store (real Redis) and the update_features task (real Celery worker)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from features import store
from features.definitions import ALL_FEATURES, N_FEATURES
from features.live import LiveFeatures


def _live(flag: bool) -> LiveFeatures:
    x = np.arange(2 * N_FEATURES, dtype=np.float32).reshape(2, N_FEATURES) / 10
    x[0, 25] = np.nan  # one missing earnings value
    return LiveFeatures(
        tickers=np.array(["AAA", "BBB"]),
        data_date=dt.date(2019, 12, 31),
        X=x,
        close=np.array([10.5, np.nan]),  # BBB had no bar: not written
        is_earnings_day=np.array([flag, False]),
    )


def test_it_writes_features_with_ttl_and_reads_them_back(redis_client):
    assert store.write_live(_live(True), redis_client) == 1
    got = store.read_features("AAA", redis_client)
    assert got["data_timestamp"] == "2019-12-31T00:00:00Z"
    assert got["close"] == 10.5
    assert np.isnan(got[ALL_FEATURES[25]])
    assert got["rsi_14"] == pytest.approx(float(np.float32(1.5)))
    assert 0 < redis_client.ttl("features:AAA") <= store.FEATURES_TTL
    assert redis_client.get("earnings_flag:AAA") == b"1"
    assert 0 < redis_client.ttl("earnings_analysis:AAA") <= store.EARNINGS_TTL
    assert not redis_client.exists("features:BBB")
    np.testing.assert_array_equal(store.read_vector("AAA", redis_client), _live(True).X[0])


def test_it_clears_the_earnings_flag_when_the_next_day_is_not_a_reaction_day(redis_client):
    store.write_live(_live(True), redis_client)
    store.write_live(_live(False), redis_client)
    assert not redis_client.exists("earnings_flag:AAA")
    assert not redis_client.exists("earnings_analysis:AAA")


def test_it_does_not_keep_a_value_that_became_missing(redis_client):
    store.write_live(_live(False), redis_client)
    assert store.read_features("AAA", redis_client)["roic"] == pytest.approx(
        float(np.float32(_live(False).X[0, ALL_FEATURES.index("roic")]))
    )
    second = _live(False)
    second.X[0, ALL_FEATURES.index("roic")] = np.nan
    store.write_live(second, redis_client)
    assert np.isnan(store.read_features("AAA", redis_client)["roic"])
    # A symbol without a bar on the new day loses its stored features.
    third = _live(False)
    third.close[0] = np.nan
    store.write_live(third, redis_client)
    assert not redis_client.exists("features:AAA")
