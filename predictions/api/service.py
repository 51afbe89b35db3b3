"""Reading predictions: Redis ``pred:{SYMBOL}`` first, PostgreSQL ``Prediction`` on a miss or
when Redis is down, and the single response shape of ``GET /api/prediction/{symbol}``.

Redis calls use short timeouts (``API_REDIS_TIMEOUT_SECONDS``), so an outage costs at most that
long per request before the PostgreSQL answer. A prediction older than
``PREDICTION_STALE_SECONDS`` (``predictions.pipeline.staleness``) is refused with 503: serving a
stale number as if it were current is worse than saying the service is behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from rest_framework import status

from accounts.redis_clients import sync_client
from core.api_errors import ApiError
from ingestion.models import AssetType, Symbol
from predictions import cache
from predictions.models import Prediction
from predictions.pipeline.staleness import age_seconds

log = logging.getLogger(__name__)

SOURCE_CACHE = "redis"
SOURCE_DATABASE = "postgres"

_DB_FIELDS = cache.RECORD_FIELDS


def features_key(symbol: str) -> str:
    return f"features:{symbol}"


def iso_z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- shaping --------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def parse_features(raw: dict) -> dict[str, Any]:
    """``features:{SYMBOL}`` hash (bytes or str) or a features snapshot -> JSON-safe dict; the
    hash's "nan" values become null, non-numeric fields (data_timestamp) stay strings."""
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        text = value.decode() if isinstance(value, bytes) else value
        number = _number(text)
        if number is None and isinstance(text, str) and text.lower() not in {"nan", "", "none"}:
            parsed[name] = text
        else:
            parsed[name] = number
    return parsed


def stale_error(symbol: str, predicted_at: str, age: float) -> ApiError:
    return ApiError(
        f"Prediction for {symbol} is {int(age)} s old "
        f"(limit {settings.PREDICTION_STALE_SECONDS} s)",
        code="prediction_stale",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        details={
            "symbol": symbol,
            "predicted_at": predicted_at,
            "age_sec": int(age),
            "stale_after_sec": settings.PREDICTION_STALE_SECONDS,
        },
        headers={"Retry-After": "60"},
    )


def shape(
    record: dict[str, Any], *, features: dict[str, Any] | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The response body from a ``pred:{SYMBOL}``-shaped record; raises 503 when stale."""
    symbol = record["symbol"]
    predicted_at = record["predicted_at"]
    age = age_seconds(predicted_at, now)
    if age > settings.PREDICTION_STALE_SECONDS:
        raise stale_error(symbol, predicted_at, age)
    return {
        "symbol": symbol,
        "current_price": record.get("current_price"),
        "predicted_return_1d": record["predicted_return_1d"],
        "predicted_price": record["predicted_price"],
        "uncertainty": {
            "sigma": record.get("uncertainty_sigma"),
            "p10": record.get("p10"),
            "p50": record.get("p50"),
            "p90": record.get("p90"),
            "method": record.get("uncertainty_method") or None,
        },
        "model_type": record["model_type"],
        "model_version": record["model_version"],
        "predicted_at": predicted_at,
        "data_timestamp": record.get("data_timestamp"),
        "data_freshness_sec": max(int(age), 0),
        "features": features,
    }


# --- PostgreSQL -----------------------------------------------------------------------------


def _db_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    record["symbol"] = record.pop("symbol__ticker")
    record["predicted_at"] = iso_z(record["predicted_at"])
    record["data_timestamp"] = iso_z(record["data_timestamp"])
    return record


def db_predictions(symbols: list[str], *, with_features: bool = False) -> dict[str, dict]:
    """Latest ``Prediction`` rows of ``symbols`` as records; raises 503 when PostgreSQL is down."""
    fields = ("symbol__ticker", *_DB_FIELDS) + (("features_snapshot",) if with_features else ())
    try:
        rows = list(Prediction.objects.filter(symbol__ticker__in=symbols).values(*fields))
    except DatabaseError as exc:
        log.error("Prediction lookup failed: %s", exc)
        raise service_unavailable() from None
    return {row["symbol"]: row for row in map(_db_record, rows)}


def service_unavailable() -> ApiError:
    return ApiError(
        "Prediction service unavailable",
        code="service_unavailable",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


def _symbol_info(symbols: list[str]) -> dict[str, dict[str, Any]]:
    rows = Symbol.objects.filter(ticker__in=symbols).values("ticker", "asset_type", "active")
    return {row["ticker"]: row for row in rows}


def missing_error(symbol: str, known: dict[str, dict[str, Any]] | None = None) -> ApiError:
    """404 for a symbol we do not know (or never predict, like an index); 503 for a known
    equity whose prediction does not exist yet (the pipeline has not produced it).
    ``known``: the symbols' rows when the caller already fetched them (batch)."""
    if known is None:
        try:
            known = _symbol_info([symbol])
        except DatabaseError:
            return service_unavailable()
    info = known.get(symbol)
    if info is None:
        return ApiError(
            f"Unknown symbol {symbol!r}",
            code="not_found",
            status_code=status.HTTP_404_NOT_FOUND,
            details={"symbol": symbol},
        )
    if info["asset_type"] != AssetType.EQUITY or not info["active"]:
        return ApiError(
            f"No predictions are made for {symbol}",
            code="not_predicted",
            status_code=status.HTTP_404_NOT_FOUND,
            details={"symbol": symbol},
        )
    return ApiError(
        f"No prediction for {symbol} yet",
        code="prediction_unavailable",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        details={"symbol": symbol},
        headers={"Retry-After": "60"},
    )


def from_database(symbol: str, include_features: bool) -> dict[str, Any]:
    record = db_predictions([symbol], with_features=include_features).get(symbol)
    if record is None:
        raise missing_error(symbol)
    features = None
    if include_features:
        features = parse_features(record.pop("features_snapshot", None) or {})
    return shape(record, features=features)


# --- one symbol -----------------------------------------------------------------------------


def get_prediction(symbol: str, include_features: bool = False) -> tuple[dict[str, Any], str]:
    """(body, source) for a canonical symbol; raises ApiError (404/503)."""
    try:
        pipe = sync_client().pipeline(transaction=False)
        pipe.get(cache.pred_key(symbol))
        if include_features:
            pipe.hgetall(features_key(symbol))
        replies = pipe.execute()
    except redis.RedisError as exc:
        log.warning("Redis unavailable, reading %s from PostgreSQL: %s", symbol, exc)
        return from_database(symbol, include_features), SOURCE_DATABASE
    return _from_replies(symbol, include_features, replies)


def snapshot_features(symbol: str) -> dict[str, Any]:
    """The features a prediction was made from, kept with its PostgreSQL row."""
    snapshot = db_predictions([symbol], with_features=True).get(symbol) or {}
    return parse_features(snapshot.get("features_snapshot") or {})


def _from_replies(symbol: str, include_features: bool, replies: list) -> tuple[dict, str]:
    record = cache.decode(symbol, replies[0])
    if record is None:
        return from_database(symbol, include_features), SOURCE_DATABASE
    features = None
    if include_features:
        features = parse_features(replies[1]) if replies[1] else None
        if features is None:  # the feature hash expired: the prediction's own snapshot
            features = snapshot_features(symbol)
    return shape(record, features=features), SOURCE_CACHE


# --- many symbols ---------------------------------------------------------------------------


def get_batch(symbols: list[str]) -> dict[str, Any]:
    """``{"results": [...], "errors": [...]}`` for canonical symbols: one MGET, then one
    PostgreSQL query for the misses. Per-symbol problems go to ``errors``, never fail the batch."""
    try:
        records = cache.read_many(sync_client(), symbols)
    except redis.RedisError as exc:
        log.warning("Redis unavailable, batch from PostgreSQL: %s", exc)
        records = {}
    missing = [s for s in symbols if s not in records]
    known: dict[str, dict[str, Any]] = {}
    if missing:
        records.update(db_predictions(missing))
        unserved = [s for s in missing if s not in records]
        if unserved:  # one query says why, for all of them
            try:
                known = _symbol_info(unserved)
            except DatabaseError:
                raise service_unavailable() from None
    now = timezone.now()
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for symbol in symbols:
        try:
            record = records.get(symbol)
            if record is None:
                raise missing_error(symbol, known)
            results.append(shape(record, features=None, now=now))
        except ApiError as exc:
            errors.append({"symbol": symbol, "code": exc.code, "message": str(exc.detail)})
    return {"results": results, "errors": errors}
