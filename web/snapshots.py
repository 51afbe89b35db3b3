"""The latest prediction of each symbol as the pages show it.

The hot copy is Redis ``pred:{SYMBOL}`` (written every cycle, TTL 120 s); when it has expired or
Redis is down the ``Prediction`` row (one per symbol, same fields) is used, so a page always has
the last known prediction and says how old it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from predictions.models import ModelType, Prediction
from web import live_store
from web.templatetags.market_format import as_float

MODEL_TYPE_LABELS = dict(ModelType.choices)


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return parsed
    return None


@dataclass(frozen=True)
class PredictionSnapshot:
    symbol: str
    current_price: float
    predicted_return_1d: float
    predicted_price: float
    p10: float | None
    p50: float | None
    p90: float | None
    uncertainty_sigma: float | None
    uncertainty_method: str
    model_type: str
    model_version: str
    predicted_at: dt.datetime | None
    data_timestamp: dt.datetime | None
    source: str  # "cache" (Redis) or "database"

    @classmethod
    def from_payload(cls, payload: dict[str, Any], source: str = "cache") -> PredictionSnapshot:
        return cls(
            symbol=str(payload["symbol"]).upper(),
            current_price=float(payload["current_price"]),
            predicted_return_1d=float(payload["predicted_return_1d"]),
            predicted_price=float(payload["predicted_price"]),
            p10=as_float(payload.get("p10")),
            p50=as_float(payload.get("p50")),
            p90=as_float(payload.get("p90")),
            uncertainty_sigma=as_float(payload.get("uncertainty_sigma")),
            uncertainty_method=str(payload.get("uncertainty_method") or ""),
            model_type=str(payload.get("model_type") or ""),
            model_version=str(payload.get("model_version") or ""),
            predicted_at=_when(payload.get("predicted_at")),
            data_timestamp=_when(payload.get("data_timestamp")),
            source=source,
        )

    @classmethod
    def from_model(cls, row: Prediction) -> PredictionSnapshot:
        return cls(
            symbol=row.symbol.ticker,
            current_price=row.current_price,
            predicted_return_1d=row.predicted_return_1d,
            predicted_price=row.predicted_price,
            p10=row.p10,
            p50=row.p50,
            p90=row.p90,
            uncertainty_sigma=row.uncertainty_sigma,
            uncertainty_method=row.uncertainty_method,
            model_type=row.model_type,
            model_version=row.model_version,
            predicted_at=row.predicted_at,
            data_timestamp=row.data_timestamp,
            source="database",
        )

    # p10/p90 are RETURNS (docs/contracts.md); the card shows them as prices too.
    @property
    def p10_price(self) -> float | None:
        return None if self.p10 is None else self.current_price * (1 + self.p10)

    @property
    def p90_price(self) -> float | None:
        return None if self.p90 is None else self.current_price * (1 + self.p90)

    @property
    def model_type_label(self) -> str:
        return MODEL_TYPE_LABELS.get(self.model_type, self.model_type or "unknown")

    @property
    def is_earnings_day(self) -> bool:
        return self.model_type == ModelType.EARNINGS_DAY

    @property
    def data_date(self) -> dt.date | None:
        return self.data_timestamp.date() if self.data_timestamp else None

    def age_seconds(self, now: dt.datetime | None = None) -> float | None:
        if self.predicted_at is None:
            return None
        return max(((now or timezone.now()) - self.predicted_at).total_seconds(), 0.0)

    @property
    def is_stale(self) -> bool:
        age = self.age_seconds()
        return age is None or age > settings.PREDICTION_STALE_SECONDS

    def as_json(self) -> dict[str, Any]:
        """The pred:{SYMBOL} shape, for the page's scripts (same keys as the live feed)."""
        return {
            "symbol": self.symbol,
            "current_price": self.current_price,
            "predicted_return_1d": self.predicted_return_1d,
            "predicted_price": self.predicted_price,
            "uncertainty_sigma": self.uncertainty_sigma,
            "p10": self.p10,
            "p50": self.p50,
            "p90": self.p90,
            "uncertainty_method": self.uncertainty_method,
            "model_type": self.model_type,
            "model_version": self.model_version,
            "predicted_at": _iso(self.predicted_at),
            "data_timestamp": _iso(self.data_timestamp),
        }


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def latest_predictions(tickers: list[str]) -> dict[str, PredictionSnapshot]:
    """Latest prediction per ticker (Redis first, then the database); tickers without any
    prediction are absent from the result."""
    found: dict[str, PredictionSnapshot] = {}
    for ticker, payload in live_store.cached_predictions(tickers).items():
        try:
            found[ticker] = PredictionSnapshot.from_payload(payload)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed cache entry: the database row below is used instead
    missing = [t for t in tickers if t not in found]
    if missing:
        rows = Prediction.objects.select_related("symbol").filter(symbol__ticker__in=missing)
        for row in rows:
            found[row.symbol.ticker] = PredictionSnapshot.from_model(row)
    return found


def latest_prediction(ticker: str) -> PredictionSnapshot | None:
    return latest_predictions([ticker]).get(ticker)
