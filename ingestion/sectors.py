"""Each symbol's stored GICS sector: the grouping of the models' sector inputs (issue 13).

Training, evaluation, the walk-forward and the serving cycle all read it here, from the same
``Symbol`` table (filled by ``ingestion.reference.symbols``, one of ``core.enums.GICS_SECTORS``
or "" when unknown), so a symbol falls in the same sector in training and at serving. The
classification is today's, not the one of each past day: a mild look-ahead for the years
before GICS's 2018 change (docs/models.md). Cached per process for ``TTL_SECONDS``: the live
cycle asks every second.
"""

from __future__ import annotations

import time

import numpy as np

TTL_SECONDS = 300.0

_cache: tuple[float, dict[str, str]] | None = None


def sector_map() -> dict[str, str]:
    """ticker -> GICS sector ("" unknown) of every stored symbol."""
    global _cache
    if _cache is not None and time.monotonic() - _cache[0] < TTL_SECONDS:
        return _cache[1]
    from ingestion.models import Symbol

    table = dict(Symbol.objects.values_list("ticker", "sector"))
    _cache = (time.monotonic(), table)
    return table


def forget_sectors() -> None:
    global _cache
    _cache = None


def sectors_of(tickers: np.ndarray) -> np.ndarray:
    """(N,) the sector of each ticker ("" for one not stored or without a sector)."""
    table = sector_map()
    unique, inverse = np.unique(np.asarray(tickers).astype(str), return_inverse=True)
    per_ticker = np.array([table.get(t, "") for t in unique], dtype=object)
    return per_ticker[inverse].astype(str) if unique.size else np.array([], dtype=str)
