"""Which symbols a canary version serves: a stable hash of the ticker, never Python's
``hash()`` (salted per process, so the split would change at every restart).

A ticker is in the canary at share s iff ``crc32(ticker) % 10_000 < round(s * 10_000)``: the
same tickers in every process and after every restart, and a larger share keeps every ticker
of a smaller one (growing a canary never moves a symbol back)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

BUCKETS = 10_000


def bucket(ticker: str) -> int:
    return zlib.crc32(ticker.encode("utf-8")) % BUCKETS


def threshold(share: float) -> int:
    return round(min(max(share, 0.0), 1.0) * BUCKETS)


def in_canary(tickers: Iterable[str], share: float) -> np.ndarray:
    """Boolean mask, aligned with ``tickers``: the symbols the canary serves at ``share``."""
    limit = threshold(share)
    names = list(tickers)
    if limit <= 0:
        return np.zeros(len(names), dtype=bool)
    if limit >= BUCKETS:
        return np.ones(len(names), dtype=bool)
    return np.fromiter((bucket(t) < limit for t in names), dtype=bool, count=len(names))
