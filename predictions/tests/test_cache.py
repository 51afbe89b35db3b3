"""The pred:{SYMBOL} cache format shared by the pipeline, the API and the website."""

from __future__ import annotations

import json

from predictions import cache


def test_it_reads_many_with_one_mget_and_skips_absent_and_malformed(redis_client) -> None:
    good = {"predicted_at": "2025-07-09T00:00:00Z", "predicted_return_1d": 0.01}
    redis_client.set(cache.pred_key("AAPL"), json.dumps(good), ex=cache.TTL_SECONDS)
    redis_client.set(cache.pred_key("BAD"), b"{not json")
    redis_client.set(cache.pred_key("ODD"), json.dumps({"no": "predicted_at"}))
    found = cache.read_many(redis_client, ["AAPL", "BAD", "ODD", "NONE"])
    assert list(found) == ["AAPL"]
    assert found["AAPL"] == {**good, "symbol": "AAPL"}
    assert 0 < redis_client.ttl(cache.pred_key("AAPL")) <= 120


def test_it_reads_nothing_for_no_symbols(redis_client) -> None:
    assert cache.read_many(redis_client, []) == {}
