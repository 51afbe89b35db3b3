"""A cycle's predictions as columns (one entry per symbol), and their JSON payloads.

Columns keep the hot path vectorised: the writer sends them to PostgreSQL as arrays, and only
the Redis/Channels payloads are built per symbol, once, and shared by both.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PredictionBatch:
    """Predictions of one cycle. Arrays are aligned, shape (N,)."""

    tickers: np.ndarray
    current_price: np.ndarray
    predicted_return: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    sigma: np.ndarray
    model_type: np.ndarray  # str
    model_version: np.ndarray  # str
    uncertainty_method: np.ndarray  # str
    data_timestamp: dt.datetime
    target_date: dt.date
    predicted_at: dt.datetime
    features_snapshot: Snapshot | None = None  # the model inputs of every row
    earnings_context: list[str | None] = field(default_factory=list)  # JSON text or None
    _json: list[str] | None = None

    def __len__(self) -> int:
        return len(self.tickers)

    def __post_init__(self) -> None:
        # Model outputs are float32 (~7 significant digits): 6 decimals of return lose nothing
        # real, and Redis and PostgreSQL then hold exactly the same numbers.
        for name in ("predicted_return", "p10", "p50", "p90", "sigma"):
            setattr(self, name, np.round(np.asarray(getattr(self, name), np.float64), 6))
        self.current_price = np.asarray(self.current_price, np.float64)
        numbers = (self.current_price, self.predicted_return, self.p10, self.p50, self.p90)
        if not all(np.isfinite(a).all() for a in (*numbers, self.sigma)):
            raise ValueError("a prediction batch holds a non-finite number")

    @property
    def predicted_price(self) -> np.ndarray:
        return np.round(self.current_price * (1.0 + self.predicted_return), 4)

    def payload_json(self) -> list[str]:
        """The contract's ``pred:{SYMBOL}`` objects as JSON text, one per symbol (p10/p50/p90
        are returns, not prices). Built with one string template per row instead of a dict and
        a ``json.dumps`` per symbol (measured 4x faster for 5,000); numbers are written with
        ``repr`` exactly as ``json.dumps`` writes floats, strings are escaped by ``json.dumps``
        (once per distinct value), and ``__post_init__`` has checked every number is finite."""
        if self._json is None:
            escaped: dict[str, str] = {}

            def esc(value: str) -> str:
                out = escaped.get(value)
                if out is None:
                    out = escaped[value] = json.dumps(value)
                return out

            predicted_at, data_ts = esc(iso_z(self.predicted_at)), esc(iso_z(self.data_timestamp))
            columns = zip(
                self.tickers.tolist(),
                self.current_price.tolist(),
                self.predicted_return.tolist(),
                self.predicted_price.tolist(),
                self.sigma.tolist(),
                self.p10.tolist(),
                self.p50.tolist(),
                self.p90.tolist(),
                self.uncertainty_method.tolist(),
                self.model_type.tolist(),
                self.model_version.tolist(),
                strict=True,
            )
            self._json = [
                _TEMPLATE
                % (
                    esc(ticker),
                    price,
                    ret,
                    pprice,
                    sigma,
                    p10,
                    p50,
                    p90,
                    esc(method),
                    esc(mtype),
                    esc(version),
                    predicted_at,
                    data_ts,
                )
                for ticker, price, ret, pprice, sigma, p10, p50, p90, method, mtype, version in (
                    columns
                )
            ]
        return self._json

    def payload(self, index: int) -> dict[str, Any]:
        return json.loads(self.payload_json()[index])

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.payload_json()]


_TEMPLATE = (
    '{"symbol":%s,"current_price":%r,"predicted_return_1d":%r,"predicted_price":%r,'
    '"uncertainty_sigma":%r,"p10":%r,"p50":%r,"p90":%r,"uncertainty_method":%s,'
    '"model_type":%s,"model_version":%s,"predicted_at":%s,"data_timestamp":%s}'
)


@dataclass
class Snapshot:
    """Model inputs per row: ``values`` (N, K) over ``names``; NaN = left out of the row's
    ``features_snapshot`` object (missing, or not an input of the row's model), as the
    ``features:{SYMBOL}`` hash omits missing features. PostgreSQL builds the JSON objects
    (``writer``), so no per-symbol dict or JSON text is made in Python."""

    names: list[str]
    values: np.ndarray

    def __post_init__(self) -> None:
        self.values = np.round(np.asarray(self.values, np.float64), 6)
