"""Data of the symbol page: price bars for the chart, the predicted next-day range, the feature
values, earnings context and the symbol's own prediction history (predicted vs realised)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.enums import HORIZONS, ONE_DAY_TYPES
from features.store import is_earnings_flagged, read_raw
from ingestion.models import EarningsEvent, Interval, PriceBar, Symbol
from predictions.latest import LatestPrediction
from predictions.models import Prediction, PredictionRecord

CHART_DAYS = 250
HISTORY_POINTS = 250
ROLLING_MAE_WINDOW = 20


def price_bars(symbol: Symbol, days: int = CHART_DAYS) -> list[dict[str, Any]]:
    """The last ``days`` daily bars, oldest first, in the shape lightweight-charts takes
    (``time`` as "YYYY-MM-DD": daily bars are stamped 00:00 UTC of the trading date)."""
    rows = (
        PriceBar.objects.filter(symbol=symbol, interval=Interval.DAY)
        .order_by("-timestamp")
        .values_list("timestamp", "open", "high", "low", "close", "volume")[:days]
    )
    return [
        {
            "time": ts.date().isoformat(),
            "open": o,
            "high": h,
            "low": lo,
            "close": c,
            "volume": v,
        }
        for ts, o, h, lo, c, v in reversed(rows)
    ]


def next_trading_day(day: dt.date) -> dt.date:
    from ingestion.calendar import next_trading_day as calendar_next

    try:
        return calendar_next(day)
    except ValueError:  # outside the calendar window: the next weekday is the best guess shown
        step = 3 if day.weekday() == 4 else 2 if day.weekday() == 5 else 1
        return day + dt.timedelta(days=step)


def forecast_band(prediction: LatestPrediction | None) -> dict[str, Any] | None:
    """The predicted next-day range as prices at the target day, for the chart."""
    if prediction is None or prediction.data_date is None:
        return None
    return {
        "time": next_trading_day(prediction.data_date).isoformat(),
        "from_time": prediction.data_date.isoformat(),
        "current": prediction.current_price,
        "predicted": prediction.predicted_price,
        "p10": prediction.p10_price,
        "p90": prediction.p90_price,
    }


def horizon_bands(prediction: LatestPrediction | None) -> list[dict[str, Any]]:
    """The longer horizons' forecasts (issue 19) as prices at their target days: one entry per
    horizon the prediction carries, for the chart and the card's table."""
    if prediction is None:
        return []
    out = []
    for h in HORIZONS:
        stored = prediction.horizon(h) if h > 1 else None
        if stored is None or stored.get("target_date") is None:
            continue
        price = prediction.current_price

        def at(key: str, stored: dict[str, Any] = stored, price: float = price) -> float | None:
            value = stored.get(key)
            return None if value is None else round(price * (1 + float(value)), 4)

        out.append(
            {
                "horizon": h,
                "time": stored["target_date"],
                "current": price,
                "predicted": stored.get("predicted_price"),
                "predicted_return": stored.get("predicted_return"),
                "p10": at("p10"),
                "p90": at("p90"),
                "p10_return": stored.get("p10"),
                "p90_return": stored.get("p90"),
                "model_version": stored.get("model_version"),
            }
        )
    return out


def feature_values(symbol: Symbol) -> tuple[dict[str, Any], str]:
    """Feature values from the live store (``features:{SYMBOL}``, TTL 300 s) or, when that has
    expired, the snapshot the pipeline saved with the prediction. Returns (values, source)."""
    live = read_raw(symbol.ticker)
    if any(key not in {"data_timestamp", "close"} for key in live):
        return live, "live"
    snapshot = (
        Prediction.objects.filter(symbol=symbol).values_list("features_snapshot", flat=True).first()
    )
    if isinstance(snapshot, dict) and snapshot:
        return snapshot, "prediction"
    return {}, "none"


@dataclass
class EarningsContext:
    is_earnings_day: bool
    event: EarningsEvent | None
    previous: list[EarningsEvent] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def surprise(self) -> float | None:
        event = self.event
        if event is None or event.eps_actual is None or not event.eps_estimate:
            return None
        return (event.eps_actual - event.eps_estimate) / abs(event.eps_estimate)


def earnings_context(symbol: Symbol, prediction: LatestPrediction | None) -> EarningsContext | None:
    """On an earnings day (routed to the earnings model, or flagged by the feature engine): the
    event the next session reacts to and the last four releases. None on other days."""
    flagged = is_earnings_flagged(symbol.ticker)
    routed = prediction is not None and prediction.is_earnings_day
    if not (flagged or routed):
        return None
    data_date = prediction.data_date if prediction else None
    events = EarningsEvent.objects.filter(symbol=symbol)
    event = None
    if data_date is not None:
        event = events.filter(reaction_date=next_trading_day(data_date)).first()
        # Figures of an event are only known once it is released (by the close of t).
        if event is not None and event.date > data_date:
            event.eps_actual = None
            event.revenue_actual = None
    previous_qs = events.filter(date__lt=event.date if event else data_date or dt.date.max)
    previous = list(previous_qs.order_by("-date")[:4])
    details = (
        Prediction.objects.filter(symbol=symbol).values_list("earnings_context", flat=True).first()
    )
    return EarningsContext(
        is_earnings_day=True,
        event=event,
        previous=previous,
        details=details if isinstance(details, dict) else {},
    )


@dataclass
class AccuracyHistory:
    points: list[dict[str, Any]]
    n: int
    mae: float | None
    mae_naive: float | None
    coverage: float | None


def accuracy_history(symbol: Symbol, limit: int = HISTORY_POINTS) -> AccuracyHistory:
    """Realised predictions of this symbol, oldest first, with a rolling MAE over the last
    ``ROLLING_MAE_WINDOW`` of them; the naive forecast is "return = 0" (no change)."""
    rows = list(
        PredictionRecord.objects.filter(
            symbol=symbol, realised_return__isnull=False, model_type__in=ONE_DAY_TYPES
        )
        .order_by("-target_date", "-predicted_at")
        .values_list("target_date", "predicted_return_1d", "realised_return", "inside_interval")[
            : limit * 2
        ]
    )
    # One point per target day (several model versions may have predicted the same day).
    seen: set[dt.date] = set()
    unique: list[tuple[dt.date, float, float, bool | None]] = []
    for target_date, predicted_return, realised_return, inside_interval in rows:
        # realised_return is never None here (filtered above); the check narrows its type.
        if target_date is None or target_date in seen or realised_return is None:
            continue
        seen.add(target_date)
        unique.append((target_date, predicted_return, realised_return, inside_interval))
    unique = list(reversed(unique[:limit]))
    points = []
    errors: list[float] = []
    for target, predicted, realised, _inside in unique:
        errors.append(abs(predicted - realised))
        window = errors[-ROLLING_MAE_WINDOW:]
        points.append(
            {
                "time": target.isoformat(),
                "predicted": predicted,
                "realised": realised,
                "rolling_mae": sum(window) / len(window),
            }
        )
    n = len(unique)
    inside = [row[3] for row in unique if row[3] is not None]
    return AccuracyHistory(
        points=points,
        n=n,
        mae=sum(errors) / n if n else None,
        mae_naive=sum(abs(row[2]) for row in unique) / n if n else None,
        coverage=sum(1 for v in inside if v) / len(inside) if inside else None,
    )
