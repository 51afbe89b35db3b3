"""The read model of the latest prediction of a symbol: one record shape and one read path.

``LatestPrediction`` is the record: built from the Redis copy (JSON, its key owned by
``predictions.cache``) or from the ``Prediction`` row, written back as the contract's JSON, and
able to say its age and whether it is stale. ``read_many``/``read_one`` are the read path: Redis
first with the request-path timeout, PostgreSQL for the misses (or for all when Redis is down),
each record saying where it came from. The REST API, its ASGI fast path, the website and the
explanations all read predictions through here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

import redis
from django.conf import settings
from django.utils import timezone

from core.enums import ModelType
from core.redis_clients import Preset, client
from core.timefmt import iso_z, iso_z_or_none, parse_instant
from predictions import cache

log = logging.getLogger(__name__)

MODEL_TYPE_LABELS = dict(ModelType.choices)


class Source(StrEnum):
    REDIS = "redis"
    POSTGRES = "postgres"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _ood(value: Any) -> dict[str, Any]:
    """The ``ood`` object of a record, normalised; unknown parts are None (older records)."""
    value = _json_value(value)
    if not isinstance(value, dict):
        return {"score": None, "flagged": None}
    flagged = value.get("flagged")
    return {
        "score": _number(value.get("score")),
        "flagged": None if flagged is None else bool(flagged),
    }


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _horizons(value: Any) -> dict[str, Any] | None:
    """The ``horizons`` object of a record (``{"5": {...}, "20": {...}}``), None when absent."""
    value = _json_value(value)
    return value if isinstance(value, dict) and value else None


@dataclass(frozen=True)
class LatestPrediction:
    symbol: str
    current_price: float
    predicted_return_1d: float
    predicted_price: float
    uncertainty_sigma: float | None
    p10: float | None
    p50: float | None
    p90: float | None
    uncertainty_method: str
    model_type: str
    model_version: str
    predicted_at: dt.datetime
    data_timestamp: dt.datetime | None
    source: Source
    ood: dict[str, Any] = field(default_factory=lambda: {"score": None, "flagged": None})
    # Longer horizons made in the same cycle: {"5": {"target_date", "predicted_return",
    # "predicted_price", "uncertainty_sigma", "p10", "p50", "p90", "uncertainty_method",
    # "model_version"}, "20": {...}}; None when no horizon model was active.
    horizons: dict[str, Any] | None = None
    # Only on PostgreSQL reads that ask for them: what the prediction was made from.
    features_snapshot: dict[str, Any] | None = None
    earnings_context: dict[str, Any] | None = None

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: Source) -> Self:
        """From the contract's fields (a decoded cache value or a row's values); raises
        KeyError/TypeError/ValueError when a required field is missing or malformed."""
        return cls(
            symbol=str(data["symbol"]).upper(),
            current_price=float(data["current_price"]),
            predicted_return_1d=float(data["predicted_return_1d"]),
            predicted_price=float(data["predicted_price"]),
            uncertainty_sigma=_number(data.get("uncertainty_sigma")),
            p10=_number(data.get("p10")),
            p50=_number(data.get("p50")),
            p90=_number(data.get("p90")),
            uncertainty_method=str(data.get("uncertainty_method") or ""),
            model_type=str(data.get("model_type") or ""),
            model_version=str(data.get("model_version") or ""),
            predicted_at=parse_instant(data["predicted_at"]),
            data_timestamp=(
                parse_instant(data["data_timestamp"]) if data.get("data_timestamp") else None
            ),
            source=source,
            ood=_ood(data.get("ood")),
            horizons=_horizons(data.get("horizons")),
        )

    @classmethod
    def from_cache(cls, symbol: str, raw: bytes | str | None) -> Self | None:
        """From a cached value; None when absent or malformed (the reader then
        falls back to PostgreSQL)."""
        data = cache.decode(symbol, raw)
        return None if data is None else cls.from_entry(symbol, data)

    @classmethod
    def from_entry(cls, symbol: str, data: dict[str, Any]) -> Self | None:
        """From a decoded cache entry; None when a required field is missing or malformed."""
        try:
            return cls.from_mapping(data, Source.REDIS)
        except (KeyError, TypeError, ValueError):
            log.warning("Ignoring malformed cache entry %s", cache.pred_key(symbol))
            return None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        """From ``Prediction`` values (``ROW_FIELDS``, maybe with the snapshot columns)."""
        data = dict(row)
        data["symbol"] = data.pop("symbol__ticker")
        found = cls.from_mapping(data, Source.POSTGRES)
        snapshot = _json_value(data.get("features_snapshot"))
        context = _json_value(data.get("earnings_context"))
        return replace(found, features_snapshot=snapshot or None, earnings_context=context or None)

    # --- output -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The contract's cached prediction object (p10/p50/p90 are returns, not prices);
        ``horizons`` only when the prediction has them (as the writer writes it)."""
        record = {
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
            "predicted_at": iso_z(self.predicted_at),
            "data_timestamp": iso_z_or_none(self.data_timestamp),
            "ood": dict(self.ood),
        }
        if self.horizons is not None:
            record["horizons"] = self.horizons
        return record

    def horizon(self, h: int) -> dict[str, Any] | None:
        """The stored forecast of horizon ``h`` (> 1), None when it was not predicted."""
        found = (self.horizons or {}).get(str(h))
        return found if isinstance(found, dict) else None

    # --- time -------------------------------------------------------------------------------

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        """Seconds since the prediction was made (negative if the clocks disagree)."""
        return ((now or timezone.now()) - self.predicted_at).total_seconds()

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        """Older than ``PREDICTION_STALE_SECONDS``: the pipeline has stopped moving it."""
        return is_stale(self.predicted_at, now)

    # --- presentation helpers ---------------------------------------------------------------

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
    def ood_flagged(self) -> bool:
        return bool(self.ood.get("flagged"))

    @property
    def is_earnings_day(self) -> bool:
        return self.model_type == ModelType.EARNINGS_DAY

    @property
    def data_date(self) -> dt.date | None:
        return self.data_timestamp.date() if self.data_timestamp else None


ROW_FIELDS = ("symbol__ticker", *cache.RECORD_FIELDS, *cache.OPTIONAL_FIELDS)
SNAPSHOT_FIELDS = ("features_snapshot", "earnings_context")


# --- the read path ------------------------------------------------------------------------------


def from_database(
    symbols: list[str], *, with_snapshot: bool = False
) -> dict[str, LatestPrediction]:
    """The ``Prediction`` rows of ``symbols``; raises ``DatabaseError`` when PostgreSQL is down."""
    from predictions.models import Prediction

    fields = ROW_FIELDS + (SNAPSHOT_FIELDS if with_snapshot else ())
    rows = Prediction.objects.filter(symbol__ticker__in=symbols).values(*fields)
    found = (LatestPrediction.from_row(row) for row in rows)
    return {p.symbol: p for p in found}


def latest_data_date() -> dt.date | None:
    """The newest data day (day of the closes) of any stored latest prediction: the day the
    platform's forecasts are made from, in replay as in production."""
    from django.db.models import Max

    from predictions.models import Prediction

    newest = Prediction.objects.aggregate(newest=Max("data_timestamp"))["newest"]
    return None if newest is None else timezone.localdate(newest, dt.UTC)


def from_cache(symbols: list[str], conn: redis.Redis | None = None) -> dict[str, LatestPrediction]:
    """The Redis copies of ``symbols`` that exist and parse, in one MGET; raises
    ``redis.RedisError`` (callers decide what an outage means)."""
    entries = cache.read_many(conn or client(Preset.REQUEST), symbols)
    found = (LatestPrediction.from_entry(s, data) for s, data in entries.items())
    return {p.symbol: p for p in found if p is not None}


def read_many(symbols: list[str], conn: redis.Redis | None = None) -> dict[str, LatestPrediction]:
    """Latest prediction of each symbol that has one: Redis first, PostgreSQL for the misses
    and for all of them when Redis is down. Raises ``DatabaseError`` only when PostgreSQL is
    needed and down."""
    try:
        found = from_cache(symbols, conn)
    except redis.RedisError as exc:
        log.warning("Redis unavailable for predictions, reading PostgreSQL: %s", exc)
        found = {}
    missing = [s for s in symbols if s not in found]
    if missing:
        found.update(from_database(missing))
    return found


def read_one(symbol: str, conn: redis.Redis | None = None) -> LatestPrediction | None:
    return read_many([symbol], conn).get(symbol)


# --- staleness ----------------------------------------------------------------------------------


def stale_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Predictions made before this instant are stale."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.PREDICTION_STALE_SECONDS)


def is_stale(predicted_at: dt.datetime | str | None, now: dt.datetime | None = None) -> bool:
    """True when a prediction made at ``predicted_at`` is stale (or its time is unknown)."""
    if predicted_at is None:
        return True
    return parse_instant(predicted_at) < stale_cutoff(now)
