"""Reading predictions (``predictions.latest``): Redis first, PostgreSQL ``Prediction`` on a miss or
when Redis is down, and the single response shape of ``GET /api/prediction/{symbol}``.

Redis calls use short timeouts (``API_REDIS_TIMEOUT_SECONDS``), so an outage costs at most that
long per request before the PostgreSQL answer. A prediction older than
``PREDICTION_STALE_SECONDS`` (``LatestPrediction.is_stale``) is refused with 503: serving a
stale number as if it were current is worse than saying the service is behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from rest_framework import status

from core.api_errors import ApiError
from core.enums import BASE_HORIZON
from core.redis_clients import Preset, client
from core.timefmt import iso_z, iso_z_or_none, parse_instant
from features.store import features_key
from ingestion.calendar import next_trading_day
from ingestion.models import AssetType, Symbol
from predictions import cache, latest
from predictions.latest import LatestPrediction, Source, from_database

log = logging.getLogger(__name__)

SOURCE_CACHE = Source.REDIS.value
SOURCE_DATABASE = Source.POSTGRES.value


# --- shaping --------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def parse_features(raw: Mapping[Any, Any]) -> dict[str, Any]:
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


def live_features(
    prediction: LatestPrediction, raw: Mapping[Any, Any] | None
) -> dict[str, Any] | None:
    """The ``features:{SYMBOL}`` hash's values when they are the ones the prediction was made
    from; None (answer with the prediction's own snapshot) when the hash is gone or names
    another day: the features task writes the hashes after it has sent the day's prediction
    task, and a failed cycle leaves newer features beside an older prediction."""
    if not raw:
        return None
    features = parse_features(raw)
    stamp = features.get("data_timestamp")
    if isinstance(stamp, str) and prediction.data_timestamp is not None:
        try:
            if parse_instant(stamp) != prediction.data_timestamp:
                return None
        except ValueError:
            return None
    return features


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


def horizon_item(prediction: LatestPrediction, h: int) -> dict[str, Any]:
    """One entry of ``horizons`` in the response: the forecast of the h-day return
    close(t) -> close(target_date); the one-day entry repeats the top-level figures. A horizon
    whose model was not active in the prediction's cycle has null figures."""
    if h == BASE_HORIZON:
        data_date = prediction.data_date
        return {
            "horizon": h,
            "target_date": next_trading_day(data_date).isoformat() if data_date else None,
            "predicted_return": prediction.predicted_return_1d,
            "predicted_price": prediction.predicted_price,
            "uncertainty": _uncertainty(prediction),
            "model_version": prediction.model_version,
        }
    stored = prediction.horizon(h) or {}
    return {
        "horizon": h,
        "target_date": stored.get("target_date"),
        "predicted_return": _number(stored.get("predicted_return")),
        "predicted_price": _number(stored.get("predicted_price")),
        "uncertainty": {
            "sigma": _number(stored.get("uncertainty_sigma")),
            "p10": _number(stored.get("p10")),
            "p50": _number(stored.get("p50")),
            "p90": _number(stored.get("p90")),
            "method": stored.get("uncertainty_method") or None,
        }
        if stored
        else None,
        "model_version": stored.get("model_version"),
    }


def _uncertainty(prediction: LatestPrediction) -> dict[str, Any]:
    return {
        "sigma": prediction.uncertainty_sigma,
        "p10": prediction.p10,
        "p50": prediction.p50,
        "p90": prediction.p90,
        "method": prediction.uncertainty_method or None,
    }


def shape(
    prediction: LatestPrediction,
    *,
    features: dict[str, Any] | None,
    now: dt.datetime | None = None,
    horizons: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The response body of one prediction; raises 503 when it is stale. ``horizons`` (asked
    with ``?horizons=``) adds the ``horizons`` list; without it the body is unchanged."""
    age = prediction.age_seconds(now)
    predicted_at = iso_z(prediction.predicted_at)
    if age > settings.PREDICTION_STALE_SECONDS:
        raise stale_error(prediction.symbol, predicted_at, age)
    body = {
        "symbol": prediction.symbol,
        "current_price": prediction.current_price,
        "predicted_return_1d": prediction.predicted_return_1d,
        "predicted_price": prediction.predicted_price,
        "uncertainty": _uncertainty(prediction),
        "model_type": prediction.model_type,
        "model_version": prediction.model_version,
        "predicted_at": predicted_at,
        "data_timestamp": iso_z_or_none(prediction.data_timestamp),
        "data_freshness_sec": max(int(age), 0),
        "features": features,
        "ood": dict(prediction.ood),
    }
    if horizons is not None:
        body["horizons"] = [horizon_item(prediction, h) for h in horizons]
    return body


# --- PostgreSQL -----------------------------------------------------------------------------


def db_predictions(
    symbols: list[str], *, with_features: bool = False
) -> dict[str, LatestPrediction]:
    """Latest ``Prediction`` rows of ``symbols``; raises 503 when PostgreSQL is down."""
    try:
        return from_database(symbols, with_snapshot=with_features)
    except DatabaseError as exc:
        log.error("Prediction lookup failed: %s", exc)
        raise service_unavailable() from None


def service_unavailable() -> ApiError:
    return ApiError(
        "Prediction service unavailable",
        code="service_unavailable",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


def _symbol_info(symbols: list[str]) -> dict[str, dict[str, Any]]:
    rows = Symbol.objects.filter(ticker__in=symbols).values("ticker", "asset_type", "active")
    return {row["ticker"]: dict(row) for row in rows}


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


def answer_from_database(
    symbol: str, include_features: bool, horizons: tuple[int, ...] | None = None
) -> dict[str, Any]:
    """The body from the ``Prediction`` row (Redis missed or is down); 404/503 as appropriate."""
    prediction = db_predictions([symbol], with_features=include_features).get(symbol)
    if prediction is None:
        raise missing_error(symbol)
    features = None
    if include_features:
        features = parse_features(prediction.features_snapshot or {})
    return shape(prediction, features=features, horizons=horizons)


# --- one symbol -----------------------------------------------------------------------------


def get_prediction(
    symbol: str, include_features: bool = False, horizons: tuple[int, ...] | None = None
) -> tuple[dict[str, Any], str]:
    """(body, source) for a canonical symbol; raises ApiError (404/503)."""
    try:
        pipe = client(Preset.REQUEST).pipeline(transaction=False)
        pipe.get(cache.pred_key(symbol))
        if include_features:
            pipe.hgetall(features_key(symbol))
        replies = pipe.execute()
    except redis.RedisError as exc:
        log.warning("Redis unavailable, reading %s from PostgreSQL: %s", symbol, exc)
        return answer_from_database(symbol, include_features, horizons), SOURCE_DATABASE
    return answer_from_replies(symbol, include_features, replies, horizons)


def snapshot_features(symbol: str) -> dict[str, Any]:
    """The features a prediction was made from, kept with its PostgreSQL row."""
    prediction = db_predictions([symbol], with_features=True).get(symbol)
    return parse_features((prediction.features_snapshot if prediction else None) or {})


def answer_from_replies(
    symbol: str,
    include_features: bool,
    replies: list[Any],
    horizons: tuple[int, ...] | None = None,
) -> tuple[dict[str, Any], str]:
    """(body, source) from the Redis replies ``[pred, features?]`` of one symbol; a miss or a
    malformed entry is answered from PostgreSQL."""
    prediction = LatestPrediction.from_cache(symbol, replies[0])
    if prediction is None:
        return answer_from_database(symbol, include_features, horizons), SOURCE_DATABASE
    features = None
    if include_features:
        features = live_features(prediction, replies[1])
        if features is None:  # hash gone or of another day: the prediction's snapshot
            features = snapshot_features(symbol)
    return shape(prediction, features=features, horizons=horizons), SOURCE_CACHE


# --- many symbols ---------------------------------------------------------------------------


def get_batch(symbols: list[str]) -> dict[str, Any]:
    """``{"results": [...], "errors": [...]}`` for canonical symbols: one MGET, then one
    PostgreSQL query for the misses. Per-symbol problems go to ``errors``, never fail the batch."""
    found = _batch_predictions(symbols)
    unserved = [s for s in symbols if s not in found]
    known: dict[str, dict[str, Any]] = {}
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
            prediction = found.get(symbol)
            if prediction is None:
                raise missing_error(symbol, known)
            results.append(shape(prediction, features=None, now=now))
        except ApiError as exc:
            errors.append({"symbol": symbol, "code": exc.code, "message": str(exc.detail)})
    return {"results": results, "errors": errors}


def _batch_predictions(symbols: list[str]) -> dict[str, LatestPrediction]:
    try:
        return latest.read_many(symbols)
    except DatabaseError as exc:
        log.error("Prediction lookup failed: %s", exc)
        raise service_unavailable() from None
