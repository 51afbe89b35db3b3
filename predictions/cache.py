"""The Redis copy of the latest prediction per symbol, ``pred:{SYMBOL}`` (docs/contracts.md).

The only module that spells the key: its name, its lifetime, its fields and how a stored value
is decoded. The writer (``predictions.pipeline.writer``) writes it; every reader goes through
the read model ``predictions.latest``. A malformed entry is treated as absent, so the reader
falls back to the ``Prediction`` row in PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

log = logging.getLogger(__name__)

TTL_SECONDS = 120

# The fields of a cached record besides "symbol", also the `Prediction` columns it mirrors.
RECORD_FIELDS = (
    "current_price",
    "predicted_return_1d",
    "predicted_price",
    "uncertainty_sigma",
    "p10",
    "p50",
    "p90",
    "uncertainty_method",
    "model_type",
    "model_version",
    "predicted_at",
    "data_timestamp",
    "ood",  # {"score": float | null, "flagged": bool | null} (predictions.ood)
)
# Fields a record carries only when it has them: {"5": {...}, "20": {...}}, the longer
# horizons of issue 19 (absent when no horizon model was active in the cycle).
OPTIONAL_FIELDS = ("horizons",)


def pred_key(symbol: str) -> str:
    return f"pred:{symbol}"


def decode(symbol: str, raw: bytes | str | None) -> dict[str, Any] | None:
    """A ``pred:{SYMBOL}`` value as a dict, or None when absent or malformed."""
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        if not isinstance(record, dict) or "predicted_at" not in record:
            raise ValueError("not a prediction record")
    except ValueError:
        log.warning("Ignoring malformed cache entry %s", pred_key(symbol))
        return None
    record.setdefault("symbol", symbol)
    return record


def read_many(client: redis.Redis, symbols: list[str]) -> dict[str, dict[str, Any]]:
    """The decoded cache entries of ``symbols`` that have one, with one MGET (the read model
    ``predictions.latest`` turns them into records).

    Raises ``redis.RedisError``: callers decide whether an outage means "use PostgreSQL" or not.
    """
    if not symbols:
        return {}
    values = client.mget([pred_key(s) for s in symbols])
    return {s: record for s, raw in zip(symbols, values, strict=True) if (record := decode(s, raw))}
