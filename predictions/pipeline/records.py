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

from core.timefmt import iso_z


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
    features_snapshot: str | None = None  # JSON array: each row's model inputs (or null)
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
        """The contract's cached prediction objects (``predictions.cache``) as JSON text, one per
        symbol (p10/p50/p90 are returns, not prices). Built with one string template per row instead
        of a dict and a ``json.dumps`` per symbol (measured 4x faster for 5,000); numbers are
        written with ``repr`` exactly as ``json.dumps`` writes floats, strings are escaped by
        ``json.dumps`` (once per distinct value), and ``__post_init__`` has checked every number is
        finite."""
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
        record: dict[str, Any] = json.loads(self.payload_json()[index])
        return record

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.payload_json()]


_TEMPLATE = (
    '{"symbol":%s,"current_price":%r,"predicted_return_1d":%r,"predicted_price":%r,'
    '"uncertainty_sigma":%r,"p10":%r,"p50":%r,"p90":%r,"uncertainty_method":%s,'
    '"model_type":%s,"model_version":%s,"predicted_at":%s,"data_timestamp":%s}'
)


def snapshot_json(names: list[str], X: np.ndarray) -> list[str]:
    """Each row's model inputs as a JSON object text; missing values are written as null and
    PostgreSQL drops them (``jsonb_strip_nulls``), as the ``features:{SYMBOL}`` hash omits
    missing features. One string template per model instead of a dict and a ``json.dumps`` per
    row (the encoder was most of this stage's time for 5,000 symbols): non-finite values are
    NaN, ``%r`` writes floats as ``json.dumps`` does, and "nan" becomes null."""
    if any("nan" in json.dumps(n) for n in names):  # the text replacement below needs this
        values = np.where(np.isfinite(X), np.round(X.astype(np.float64), 6), np.nan).tolist()
        return [
            json.dumps({n: (v if v == v else None) for n, v in zip(names, row, strict=True)})
            for row in values
        ]
    template = "{" + ",".join(f"{json.dumps(n)}:%r" for n in names) + "}"
    values = np.where(np.isfinite(X), np.round(X.astype(np.float64), 6), np.nan).tolist()
    return [(template % tuple(row)).replace("nan", "null") for row in values]
