"""Small builders of real rows for the website's tests."""

from __future__ import annotations

import datetime as dt
import json
import math

from django.utils import timezone

from ingestion.models import PriceBar, Symbol
from predictions.models import Prediction, PredictionRecord


def make_symbol(ticker: str, name: str = "", **extra) -> Symbol:
    return Symbol.objects.create(
        ticker=ticker, name=name or f"{ticker} Inc.", exchange="NASDAQ", sector="Tech", **extra
    )


def trading_days(end: dt.date, n: int) -> list[dt.date]:
    from ingestion.calendar import previous_trading_day

    days = [end]
    while len(days) < n:
        days.append(previous_trading_day(days[-1]))
    return list(reversed(days))


def make_bars(symbol: Symbol, end: dt.date, n: int = 60, base: float = 100.0) -> list[PriceBar]:
    bars = []
    for i, day in enumerate(trading_days(end, n)):
        close = base * (1 + 0.1 * math.sin(i / 5))
        bars.append(
            PriceBar(
                symbol=symbol,
                timestamp=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
                interval="1d",
                open=close * 0.99,
                high=close * 1.02,
                low=close * 0.97,
                close=close,
                volume=1_000_000 + i * 1000,
                source="test",
            )
        )
    return PriceBar.objects.bulk_create(bars)


def prediction_payload(
    ticker: str,
    *,
    current: float = 100.0,
    ret: float = 0.0123,
    data_date: dt.date = dt.date(2024, 5, 1),
    model_type: str = "normal_day",
    version: str = "v1",
    predicted_at: dt.datetime | None = None,
) -> dict:
    at = predicted_at or timezone.now()
    return {
        "symbol": ticker,
        "current_price": current,
        "predicted_return_1d": ret,
        "predicted_price": current * (1 + ret),
        "uncertainty_sigma": 0.02,
        "p10": ret - 0.025,
        "p50": ret,
        "p90": ret + 0.025,
        "uncertainty_method": "quantile_conformal",
        "model_type": model_type,
        "model_version": version,
        "predicted_at": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data_timestamp": f"{data_date.isoformat()}T00:00:00Z",
    }


def save_prediction(symbol: Symbol, payload: dict, **extra) -> Prediction:
    fields = {k: v for k, v in payload.items() if k != "symbol"}
    fields["predicted_at"] = dt.datetime.fromisoformat(
        fields["predicted_at"].replace("Z", "+00:00")
    )
    fields["data_timestamp"] = dt.datetime.fromisoformat(
        fields["data_timestamp"].replace("Z", "+00:00")
    )
    fields.update(extra)
    prediction, _ = Prediction.objects.update_or_create(symbol=symbol, defaults=fields)
    return prediction


def cache_prediction(redis_client, payload: dict) -> None:
    redis_client.set(f"pred:{payload['symbol']}", json.dumps(payload), ex=120)


def make_record(
    symbol: Symbol,
    target: dt.date,
    predicted: float,
    realised: float | None,
    *,
    model_type: str = "normal_day",
    version: str = "v1",
) -> PredictionRecord:
    from ingestion.calendar import previous_trading_day
    from predictions.accuracy import rank_realised

    day = previous_trading_day(target)
    record = PredictionRecord.objects.create(
        symbol=symbol,
        data_timestamp=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
        target_date=target,
        model_type=model_type,
        model_version=version,
        current_price=100.0,
        predicted_return_1d=predicted,
        predicted_price=100 * (1 + predicted),
        p10=predicted - 0.02,
        p50=predicted,
        p90=predicted + 0.02,
        predicted_at=timezone.now(),
        realised_return=realised,
        abs_error=None if realised is None else abs(predicted - realised),
        inside_interval=None
        if realised is None
        else (predicted - 0.02 <= realised <= predicted + 0.02),
        realised_at=timezone.now() if realised is not None else None,
    )
    if realised is not None:
        rank_realised([target])  # the rank IC inputs, as record_realised sets them
    return record
