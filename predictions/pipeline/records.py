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

from core.numtext import json_object_rows, number_texts
from core.timefmt import iso_z


@dataclass
class HorizonPart:
    """One longer horizon's forecasts of a cycle (issue 19): ``rows`` index the batch's symbols
    it predicted; the other arrays are aligned with ``rows``. Returns are h-day returns
    close(t) -> close(target_date); ``baseline`` is the momentum forecast (trailing h-day
    return, NaN when unknown) stored with the record for the accuracy comparison."""

    horizon: int
    model_type: str
    model_version: str
    uncertainty_method: str
    target_date: dt.date
    rows: np.ndarray
    point: np.ndarray
    quantiles: np.ndarray  # (n, 3) p10, p50, p90
    baseline: np.ndarray

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, np.intp)
        self.point = np.round(np.asarray(self.point, np.float64), 6)
        self.quantiles = np.round(np.asarray(self.quantiles, np.float64).reshape(-1, 3), 6)
        self.baseline = np.round(np.asarray(self.baseline, np.float64), 6)
        if not (np.isfinite(self.point).all() and np.isfinite(self.quantiles).all()):
            raise ValueError("a horizon part holds a non-finite number")

    @property
    def sigma(self) -> np.ndarray:
        sigma: np.ndarray = np.round(
            (self.quantiles[:, 2] - self.quantiles[:, 0]) / SIGMA_DIVISOR, 6
        )
        return sigma

    def fragments(self, current_price: np.ndarray) -> list[str]:
        """``"h":{...}`` JSON text per row (the object inside ``horizons`` of the payload)."""
        price = np.round(current_price[self.rows] * (1.0 + self.point), 4)
        head = (
            f'"{self.horizon}":{{"target_date":"{self.target_date.isoformat()}",'
            f'"model_version":{json.dumps(self.model_version)},'
            f'"uncertainty_method":{json.dumps(self.uncertainty_method)},'
        )
        columns = np.column_stack([self.point, price, self.sigma, self.quantiles])
        texts = number_texts(columns)  # C-speed shortest texts (a %r per number cost 2x)
        template = head.replace("%", "%%") + _HORIZON_TEMPLATE
        width = columns.shape[1]
        return [template % tuple(texts[k : k + width]) for k in range(0, len(texts), width)]


_HORIZON_TEMPLATE = (
    '"predicted_return":%s,"predicted_price":%s,"uncertainty_sigma":%s,"p10":%s,"p50":%s,"p90":%s}'
)
SIGMA_DIVISOR = 2 * 1.2815516


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
    # Out-of-distribution score per row (NaN: the model has no statistics) and its flag.
    ood_score: np.ndarray | None = None
    ood_flagged: np.ndarray | None = None
    # Longer horizons predicted in the same pass (issue 19); empty when no h-day model is active.
    horizons: list[HorizonPart] = field(default_factory=list)
    _json: list[str] | None = None
    _base_json: list[str] | None = None  # the payloads without ``horizons``
    _horizons_json: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.tickers)

    def __post_init__(self) -> None:
        # Model outputs are float32 (~7 significant digits): 6 decimals of return lose nothing
        # real, and Redis and PostgreSQL then hold exactly the same numbers.
        for name in ("predicted_return", "p10", "p50", "p90", "sigma"):
            setattr(self, name, np.round(np.asarray(getattr(self, name), np.float64), 6))
        self.current_price = np.asarray(self.current_price, np.float64)
        n = len(self.tickers)
        score = np.full(n, np.nan) if self.ood_score is None else self.ood_score
        self.ood_score = np.round(np.asarray(score, np.float64), 4)
        flagged = np.zeros(n, bool) if self.ood_flagged is None else self.ood_flagged
        self.ood_flagged = np.asarray(flagged, bool) & np.isfinite(self.ood_score)
        numbers = (self.current_price, self.predicted_return, self.p10, self.p50, self.p90)
        if not all(np.isfinite(a).all() for a in (*numbers, self.sigma)):
            raise ValueError("a prediction batch holds a non-finite number")

    def ood_columns(self) -> tuple[list[float | None], list[bool | None]]:
        """Score and flag per row, None where the model has no statistics."""
        score = np.full(len(self), np.nan) if self.ood_score is None else self.ood_score
        flag = np.zeros(len(self), bool) if self.ood_flagged is None else self.ood_flagged
        known = np.isfinite(score).tolist()
        scores = [s if k else None for s, k in zip(score.tolist(), known, strict=True)]
        flags = [f if k else None for f, k in zip(flag.tolist(), known, strict=True)]
        return scores, flags

    def _ood_json(self) -> list[str]:
        scores, flags = self.ood_columns()
        return [
            f'{{"score":{"null" if s is None else repr(s)},"flagged":{json.dumps(f)}}}'
            for s, f in zip(scores, flags, strict=True)
        ]

    def horizons_json(self) -> list[str | None]:
        """Per row, the ``horizons`` object text (``{"5": {...}, "20": {...}}``), None for a
        row no horizon model predicted. The same text goes to Redis and PostgreSQL."""
        if self._horizons_json is None:
            pieces: list[list[str]] = [[] for _ in range(len(self))]
            for part in self.horizons:
                texts = part.fragments(self.current_price)
                for row, text in zip(part.rows.tolist(), texts, strict=True):
                    pieces[row].append(text)
            self._horizons_json = ["{" + ",".join(p) + "}" if p else None for p in pieces]
        return self._horizons_json

    @property
    def predicted_price(self) -> np.ndarray:
        return np.round(self.current_price * (1.0 + self.predicted_return), 4)

    def payload_json(self) -> list[str]:
        """The contract's cached prediction objects (``predictions.cache``) as JSON text, one per
        symbol (p10/p50/p90 are returns, not prices). Built with one string template per row instead
        of a dict and a ``json.dumps`` per symbol (measured 4x faster for 5,000); numbers are
        written as their shortest text at C speed (``core.numtext``: the digits ``json.dumps``
        writes), strings are escaped by ``json.dumps`` (once per distinct value), and
        ``__post_init__`` has checked every number is finite."""
        if self._json is None:
            escaped: dict[str, str] = {}

            def esc(value: str) -> str:
                out = escaped.get(value)
                if out is None:
                    out = escaped[value] = json.dumps(value)
                return out

            predicted_at, data_ts = esc(iso_z(self.predicted_at)), esc(iso_z(self.data_timestamp))
            numbers = np.column_stack(
                [self.current_price, self.predicted_return, self.predicted_price, self.sigma,
                 self.p10, self.p50, self.p90]
            )  # fmt: skip
            texts = number_texts(numbers)
            width = numbers.shape[1]
            columns = zip(
                self.tickers.tolist(),
                range(0, len(texts), width),
                self.uncertainty_method.tolist(),
                self.model_type.tolist(),
                self.model_version.tolist(),
                self._ood_json(),
                strict=True,
            )
            stamps = (predicted_at, data_ts)
            # Strings (ticker, method, type, version) escaped once per distinct value; the
            # timestamps and the ood object are already JSON text.
            self._json = self._base_json = [
                _TEMPLATE % (esc(t), *texts[k : k + width], esc(m), esc(ty), esc(v), *stamps, ood)
                for t, k, m, ty, v, ood in columns
            ]
            if self.horizons:  # only then: without h-day models the payload stays as it was
                self._json = [
                    text if h is None else f'{text[:-1]},"horizons":{h}}}'
                    for text, h in zip(self._json, self.horizons_json(), strict=True)
                ]
        return self._json

    def update_frame(self, index: int) -> str:
        """The WebSocket feed's ``prediction_update`` frame of a row, as JSON text, for a
        subscription without horizons (``predictions.consumers``: the payload's keys after
        ``"type"``, the stored horizons left out). Built here once per symbol, so no web server
        process encodes it again."""
        self.payload_json()
        assert self._base_json is not None  # built by payload_json
        return '{"type":"prediction_update",' + self._base_json[index][1:]

    def payload(self, index: int) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self.payload_json()[index])
        return record

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.payload_json()]


_TEMPLATE = (
    '{"symbol":%s,"current_price":%s,"predicted_return_1d":%s,"predicted_price":%s,'
    '"uncertainty_sigma":%s,"p10":%s,"p50":%s,"p90":%s,"uncertainty_method":%s,'
    '"model_type":%s,"model_version":%s,"predicted_at":%s,"data_timestamp":%s,"ood":%s}'
)


def snapshot_json(names: list[str], X: np.ndarray) -> str:
    """The JSON array text of each row's model inputs as an object; missing (non-finite) values
    are null and PostgreSQL drops them (``jsonb_strip_nulls``), as the ``features:{SYMBOL}``
    hash omits missing features. Rounded to 6 decimals and written at C speed
    (``core.numtext``): a ``%r`` per value was most of this stage's time for 5,000 symbols."""
    values = np.where(np.isfinite(X), np.round(X.astype(np.float64), 6), np.nan)
    return json_object_rows(names, values)
