"""Redis feature store: ``features:{SYMBOL}``, ``earnings_flag:{SYMBOL}``,
``earnings_analysis:{SYMBOL}`` (architecture 2.2, CONTRACTS "Live").

* ``features:{SYMBOL}`` — hash, TTL 300 s: the 37 features (missing ones omitted), ``close``
  and ``data_timestamp`` (ISO, 00:00 UTC of the data's trading date, like ``PriceBar``).
* ``earnings_flag:{SYMBOL}`` = "1", TTL 86400 s, for symbols whose next trading day is a
  reaction day; deleted for the other symbols of the same write (the replay clock advances a
  trading day every few seconds, so a day-old flag must not linger for its TTL).
* ``earnings_analysis:{SYMBOL}`` — hash, TTL 86400 s, the available earnings features and
  ``data_timestamp``, for the flagged symbols.

Everything of one cycle goes out in one non-transactional pipeline (one round trip per
``BATCH`` symbols).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import redis
from django.conf import settings

from features.definitions import ALL_FEATURES, EARNINGS_FEATURES, N_TECHNICAL
from features.live import LiveFeatures

FEATURES_TTL = 300
EARNINGS_TTL = 86400
BATCH = 2000


def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def features_key(symbol: str) -> str:
    return f"features:{symbol}"


def data_timestamp(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), dt.UTC).isoformat().replace("+00:00", "Z")


def write_live(live: LiveFeatures, conn: redis.Redis | None = None) -> int:
    """Write the valid symbols' features; returns how many symbols were written."""
    conn = conn or client()
    stamp = data_timestamp(live.data_date)
    valid = live.valid
    x = live.X.astype(np.float64)
    written = 0
    pipe = conn.pipeline(transaction=False)
    for i in np.flatnonzero(valid):
        sym = str(live.tickers[i])
        row = x[i]
        mapping = {n: repr(float(v)) for n, v in zip(ALL_FEATURES, row, strict=True) if v == v}
        mapping["close"] = repr(float(live.close[i]))
        mapping["data_timestamp"] = stamp
        key = features_key(sym)
        pipe.delete(key)  # features that became missing must not survive from the last cycle
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, FEATURES_TTL)
        if live.is_earnings_day[i]:
            earn = {
                n: repr(float(v))
                for n, v in zip(EARNINGS_FEATURES, row[N_TECHNICAL:], strict=True)
                if v == v
            }
            earn["data_timestamp"] = stamp
            pipe.set(f"earnings_flag:{sym}", "1", ex=EARNINGS_TTL)
            pipe.delete(f"earnings_analysis:{sym}")
            pipe.hset(f"earnings_analysis:{sym}", mapping=earn)
            pipe.expire(f"earnings_analysis:{sym}", EARNINGS_TTL)
        else:
            pipe.delete(f"earnings_flag:{sym}", f"earnings_analysis:{sym}")
        written += 1
        if written % BATCH == 0:
            pipe.execute()
    pipe.execute()
    return written


def read_features(symbol: str, conn: redis.Redis | None = None) -> dict[str, float | str]:
    """The stored hash of one symbol: feature values as floats (missing ones NaN),
    ``data_timestamp`` as its ISO string; empty dict when absent or expired."""
    conn = conn or client()
    raw = conn.hgetall(features_key(symbol))
    if not raw:
        return {}
    decoded = {k.decode(): v.decode() for k, v in raw.items()}
    out: dict[str, float | str] = {n: float(decoded.get(n, "nan")) for n in ALL_FEATURES}
    out["close"] = float(decoded.get("close", "nan"))
    out["data_timestamp"] = decoded.get("data_timestamp", "")
    return out


def read_vector(symbol: str, conn: redis.Redis | None = None) -> np.ndarray | None:
    """The 37 features of one symbol in ``ALL_FEATURES`` order (float32, NaN = missing)."""
    stored = read_features(symbol, conn)
    if not stored:
        return None
    return np.array([stored[n] for n in ALL_FEATURES], dtype=np.float32)


def is_missing(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
