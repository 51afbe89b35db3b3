"""Features -> inference handoff in ONE Redis value per trading day.

The contract's ``features:{SYMBOL}`` hashes serve per-symbol readers (API, explanations), but
reading 5,000 of them back costs the inference worker 5,000 HMGETs of 39 fields (measured:
hundreds of ms on this machine, most of a 1-second budget). So the features worker also writes
the whole matrix as one binary value, ``features:matrix:{DATE}`` (TTL 300 s), and the inference
worker reads it with one GET; ``sources.from_redis`` falls back to the hashes when it is absent.
The inference worker drops it once the day's forecasts are stored (``discard_matrix``): the TTL
only bounds a matrix nobody consumed, so at one cycle a second Redis does not hold 300 of them
(~0.8 MB each for 5,000 symbols; the soak measured Redis growing by 46 % while they piled up).

Layout (no pickle): 4-byte big-endian header length, a JSON header (data_date, feature_names,
tickers, shapes), then X as float32 (S, F) C-order, close as float64 (S,).
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from typing import Protocol

import numpy as np
import redis

MATRIX_KEY = "features:matrix:{}"
MATRIX_TTL_SECONDS = 300
# (data date, feature names, tickers, X, close), as unpack returns it.
Matrix = tuple[dt.date, list[str], np.ndarray, np.ndarray, np.ndarray]


class FeatureMatrix(Protocol):  # features.live.LiveFeatures satisfies it
    tickers: np.ndarray
    data_date: dt.date
    X: np.ndarray
    close: np.ndarray


def pack(live: FeatureMatrix, feature_names: list[str]) -> bytes:
    X = np.ascontiguousarray(live.X, dtype=np.float32)
    close = np.ascontiguousarray(live.close, dtype=np.float64)
    header = json.dumps(
        {
            "data_date": live.data_date.isoformat(),
            "feature_names": list(feature_names),
            "tickers": [str(t) for t in live.tickers],
            "shape": list(X.shape),
        }
    ).encode()
    return struct.pack(">I", len(header)) + header + X.tobytes() + close.tobytes()


def unpack(blob: bytes) -> Matrix:
    (size,) = struct.unpack(">I", blob[:4])
    header = json.loads(blob[4 : 4 + size])
    rows, cols = header["shape"]
    offset = 4 + size
    X = np.frombuffer(blob, dtype=np.float32, count=rows * cols, offset=offset)
    close = np.frombuffer(blob, dtype=np.float64, count=rows, offset=offset + X.nbytes)
    return (
        dt.date.fromisoformat(header["data_date"]),
        header["feature_names"],
        np.array(header["tickers"], dtype=str),
        X.reshape(rows, cols),
        close,
    )


def write_matrix(
    client: redis.Redis, live: FeatureMatrix, feature_names: list[str] | None = None
) -> int:
    """Store ``live`` (e.g. ``features.live.LiveFeatures``; columns = ALL_FEATURES unless
    ``feature_names`` says otherwise) for the inference worker. Returns the bytes written."""
    if feature_names is None:
        from features.definitions import ALL_FEATURES

        feature_names = list(ALL_FEATURES)
    blob = pack(live, feature_names)
    client.set(MATRIX_KEY.format(live.data_date.isoformat()), blob, ex=MATRIX_TTL_SECONDS)
    return len(blob)


def read_matrix(client: redis.Redis, data_date: dt.date) -> Matrix | None:
    blob = client.get(MATRIX_KEY.format(data_date.isoformat()))
    if blob is None:
        return None
    if not isinstance(blob, bytes):  # a decode_responses client cannot carry the binary matrix
        raise TypeError("read_matrix needs a Redis client that answers bytes")
    return unpack(blob)


def discard_matrix(client: redis.Redis, data_date: dt.date) -> None:
    """The day's forecasts are stored: a redelivered task falls back to the hashes."""
    client.delete(MATRIX_KEY.format(data_date.isoformat()))
