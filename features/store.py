"""Redis feature store: ``features:{SYMBOL}``, ``earnings_flag:{SYMBOL}``,
``earnings_analysis:{SYMBOL}`` (architecture 2.2; docs/contracts.md, "Live").

* ``features:{SYMBOL}`` — hash, TTL 300 s: the 49 features of ``ALL_FEATURES`` (missing ones
  "nan"), ``close`` and ``data_timestamp`` (ISO, 00:00 UTC of the data's trading date, like
  ``PriceBar``).
* ``earnings_flag:{SYMBOL}`` = "1", TTL 86400 s, for symbols whose next trading day is a
  reaction day; deleted for the other symbols of the same write (the replay clock advances a
  trading day every few seconds, so a day-old flag must not linger for its TTL).
* ``earnings_analysis:{SYMBOL}`` — hash, TTL 86400 s, the available earnings features and
  ``data_timestamp``, for the flagged symbols.

The feature hashes of one cycle go out pre-encoded (RESP) in one round trip per ``BATCH``
symbols; the earnings keys in one redis-py pipeline.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import redis
from redis.typing import EncodableT

from core import redis_clients
from core.numtext import number_texts
from core.redis_clients import Preset
from features.definitions import ALL_FEATURES, EARNINGS_FEATURES, EARNINGS_SLICE
from features.live import LiveFeatures

FEATURES_TTL = 300
EARNINGS_TTL = 86400
BATCH = 2000


def client() -> redis.Redis:
    return redis_clients.client(Preset.PIPELINE)


def features_key(symbol: str) -> str:
    return f"features:{symbol}"


def earnings_flag_key(symbol: str) -> str:
    return f"earnings_flag:{symbol}"


def earnings_analysis_key(symbol: str) -> str:
    return f"earnings_analysis:{symbol}"


def data_timestamp(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(), dt.UTC).isoformat().replace("+00:00", "Z")


_FIELDS = [*ALL_FEATURES, "close", "data_timestamp"]
# One RESP text template per symbol: HSET with the 51 fields, then EXPIRE. Filled with a single
# %-format per symbol (C speed); redis-py would encode the 80 arguments one by one (~100 us).
_TEMPLATE = (
    f"*{2 + 2 * len(_FIELDS)}\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n"
    + "".join(f"${len(n)}\r\n{n}\r\n$%d\r\n%s\r\n" for n in _FIELDS)
    + f"*3\r\n$6\r\nEXPIRE\r\n$%d\r\n%s\r\n${len(str(FEATURES_TTL))}\r\n{FEATURES_TTL}\r\n"
)


def _send(conn: redis.Redis, payload: list[str], replies: int) -> None:
    """Send pre-encoded RESP commands on one connection and read (and check) every reply."""
    pool = conn.connection_pool
    connection = pool.get_connection()
    try:
        packed = ["".join(payload).encode("ascii")]
        connection.send_packed_command(packed)  # type: ignore[no-untyped-call]  # unannotated
        for _ in range(replies):
            connection.read_response()  # raises on an error reply
    finally:
        pool.release(connection)


def write_live(live: LiveFeatures, conn: redis.Redis | None = None) -> int:
    """Write the valid symbols' features; returns how many symbols were written.

    Every one of the 49 feature fields is written each cycle ("nan" when missing), so a value that
    became missing cannot survive from an earlier cycle and no DEL is needed per key.
    """
    conn = conn or client()
    stamp = data_timestamp(live.data_date)
    rows = np.flatnonzero(live.valid)
    # float32 texts read back exactly; a missing value is "nan".
    values = number_texts(live.X[rows].astype(np.float32, copy=False), missing="nan")
    closes = list(map(repr, live.close[rows].astype(np.float64).tolist()))
    flagged = live.is_earnings_day[rows]
    n_feat = len(ALL_FEATURES)
    n_args = 2 + 2 * len(_FIELDS) + 2
    args: list[object] = [None] * n_args
    payload: list[str] = []
    pipe = conn.pipeline(transaction=False)  # the few earnings-day symbols
    unflagged: list[str] = []
    for k, i in enumerate(rows):
        sym = str(live.tickers[i])
        key = features_key(sym)
        vals = values[k * n_feat : (k + 1) * n_feat]
        fields = [*vals, closes[k], stamp]
        args[0] = args[-2] = len(key)
        args[1] = args[-1] = key
        args[2:-2:2] = list(map(len, fields))
        args[3:-2:2] = fields
        payload.append(_TEMPLATE % tuple(args))
        if flagged[k]:
            earn: dict[EncodableT, EncodableT] = {
                n: v
                for n, v in zip(EARNINGS_FEATURES, vals[EARNINGS_SLICE], strict=True)
                if v != "nan"
            }
            earn["data_timestamp"] = stamp
            pipe.set(earnings_flag_key(sym), "1", ex=EARNINGS_TTL)
            pipe.delete(earnings_analysis_key(sym))
            pipe.hset(earnings_analysis_key(sym), mapping=earn)
            pipe.expire(earnings_analysis_key(sym), EARNINGS_TTL)
        else:
            unflagged += (earnings_flag_key(sym), earnings_analysis_key(sym))
        if len(payload) >= BATCH:
            _send(conn, payload, 2 * len(payload))
            payload = []
    if payload:
        _send(conn, payload, 2 * len(payload))
    # Symbols without a bar (or without full history) today: drop yesterday's values.
    stale = [
        key(t)
        for t in live.tickers[~live.valid].tolist()
        for key in (features_key, earnings_flag_key, earnings_analysis_key)
    ]
    unflagged += stale
    for start in range(0, len(unflagged), 2 * BATCH):
        pipe.delete(*unflagged[start : start + 2 * BATCH])
    pipe.execute()
    return len(rows)


def read_features(symbol: str, conn: redis.Redis | None = None) -> dict[str, float | str]:
    """The stored hash of one symbol: feature values as floats (missing ones NaN),
    ``data_timestamp`` as its ISO string; empty dict when absent or expired."""
    conn = conn or client()
    raw = conn.hgetall(features_key(symbol))
    if not raw:
        return {}
    decoded = {_text(k): _text(v) for k, v in raw.items()}
    out: dict[str, float | str] = {n: float(decoded.get(n, "nan")) for n in ALL_FEATURES}
    out["close"] = float(decoded.get("close", "nan"))
    out["data_timestamp"] = decoded.get("data_timestamp", "")
    return out


def read_vector(symbol: str, conn: redis.Redis | None = None) -> np.ndarray | None:
    """The 49 features of one symbol in ``ALL_FEATURES`` order (float32, NaN = missing)."""
    stored = read_features(symbol, conn)
    if not stored:
        return None
    return np.array([stored[n] for n in ALL_FEATURES], dtype=np.float32)


# --- readers for the request path (website, API, explanations): an outage reads as "absent" ---


def read_raw(symbol: str) -> dict[str, str]:
    """The ``features:{SYMBOL}`` hash as text (missing values "nan"); {} when absent or when
    Redis is down."""
    try:
        raw = redis_clients.client(Preset.REQUEST).hgetall(features_key(symbol))
    except redis.RedisError:
        return {}
    return {_text(k): _text(v) for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def earnings_flagged() -> set[str]:
    """Tickers whose next trading day is an earnings reaction day; empty when Redis is down."""
    conn = redis_clients.client(Preset.REQUEST)
    try:
        keys = list(conn.scan_iter(match=earnings_flag_key("*"), count=1000))
        values = conn.mget(keys) if keys else []
    except redis.RedisError:
        return set()
    return {
        key.decode().split(":", 1)[1]
        for key, value in zip(keys, values, strict=True)
        if value == b"1"
    }


def is_earnings_flagged(symbol: str) -> bool:
    try:
        return bool(redis_clients.client(Preset.REQUEST).get(earnings_flag_key(symbol)) == b"1")
    except redis.RedisError:
        return False
