"""Where an inference worker gets the features of a trading day.

First choice: the one-value matrix of ``features.handoff`` (one GET). Fallback:
in the Celery chain the features worker has written ``features:{SYMBOL}`` hashes (contract:
the 49 values, missing ones omitted or "nan", plus ``data_timestamp`` and ``close``). The
inference worker reads them back for the active universe with pipelined ``HMGET`` in a fixed
field order, so parsing is one vectorised bytes -> float conversion.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import redis

from features import handoff
from features.store import features_key
from ingestion.models import AssetType, Symbol
from predictions.pipeline.cycle import CycleInput
from predictions.pipeline.runtime import active_version

CHUNK = 2000


def feature_names() -> list[str]:
    """Every feature an active model needs, in the contract's ``ALL_FEATURES`` order."""
    from features.definitions import ALL_FEATURES
    from predictions.ml.inputs import base_name

    needed: set[str] = set()
    for kind in ("normal", "earnings"):
        version = active_version(kind)
        if version is not None:
            # Derived inputs (``xs_rank:<f>``) are computed from the stored feature f.
            needed.update(base_name(n) for n in version.metadata.get("features") or [])
    if not needed:
        return list(ALL_FEATURES)
    ordered = [name for name in ALL_FEATURES if name in needed]
    return ordered + sorted(needed - set(ordered))


def universe() -> list[str]:
    return list(
        Symbol.objects.filter(active=True, asset_type=AssetType.EQUITY).values_list(
            "ticker", flat=True
        )
    )


def from_redis(
    client: redis.Redis,
    data_date: dt.date,
    *,
    tickers: list[str] | None = None,
    names: list[str] | None = None,
) -> CycleInput:
    """Features of ``data_date`` for ``tickers`` (default: the active equity universe); symbols
    whose hash is missing or belongs to another day are left out."""
    matrix = handoff.read_matrix(client, data_date)
    if matrix is not None:
        return _from_matrix(matrix, tickers)
    tickers = universe() if tickers is None else tickers
    names = feature_names() if names is None else names
    fields = [*names, "close", "data_timestamp"]
    rows: list[list[bytes | None]] = []
    for start in range(0, len(tickers), CHUNK):
        pipe = client.pipeline(transaction=False)
        for ticker in tickers[start : start + CHUNK]:
            pipe.hmget(features_key(ticker), fields)
        rows.extend(pipe.execute())
    day = data_date.isoformat().encode()
    keep = [i for i, row in enumerate(rows) if row[-1] is not None and row[-1][:10] == day]
    values = [v if v else b"nan" for i in keep for v in rows[i][:-1]]
    grid = np.array(values, dtype="S32").astype(np.float64).reshape(len(keep), len(names) + 1)
    return CycleInput(
        data_date=data_date,
        tickers=np.array([tickers[i] for i in keep], dtype=str),
        X=grid[:, :-1].astype(np.float32),
        feature_names=list(names),
        close=grid[:, -1],
    )


def _from_matrix(matrix: handoff.Matrix, tickers: list[str] | None) -> CycleInput:
    data_date, names, all_tickers, X, close = matrix
    # The same rows the hashes hold (features.store writes "valid" symbols only): a bar on the
    # day and every technical feature defined.
    from features.definitions import TECHNICAL_FEATURES

    tech = [i for i, name in enumerate(names) if name in set(TECHNICAL_FEATURES)]
    rows = np.isfinite(close) & (close > 0) & np.isfinite(X[:, tech]).all(axis=1)
    if tickers is not None:
        rows &= np.isin(all_tickers, np.asarray(tickers, dtype=str))
    return CycleInput(
        data_date=data_date,
        tickers=all_tickers[rows],
        X=X[rows],
        feature_names=list(names),
        close=close[rows],
    )
