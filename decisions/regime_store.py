"""Writes and reads the stored regimes (``MarketRegime``), the one place that knows its shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

from decisions.models import MarketRegime
from decisions.regime import METHOD, STATE_NAMES, Labels


def save(labels: list[Labels]) -> int:
    """Upsert every labelled day; returns the number of rows written."""
    rows = [
        MarketRegime(
            date=day.item(),
            regime=str(regime),
            probability=round(float(p), 6),
            probabilities={n: round(float(v), 6) for n, v in zip(STATE_NAMES, ps, strict=True)},
            model_version=str(version),
        )
        for part in labels
        for day, regime, p, ps, version in zip(
            part.dates, part.regime, part.probability, part.probabilities, part.model_version,
            strict=True,
        )
    ]  # fmt: skip
    MarketRegime.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["date"],
        update_fields=["regime", "probability", "probabilities", "model_version"],
    )
    return len(rows)


def as_json(row: MarketRegime) -> dict[str, Any]:
    return {"date": row.date.isoformat(), "regime": row.regime, "probability": row.probability}


def forecast_session() -> dt.date | None:
    """The trading session the platform's latest predictions are for (the session after their
    data day), None before the first prediction. In replay the index file runs past the replay
    clock, so "today" is this day, not the newest label."""
    from ingestion.calendar import next_trading_day
    from predictions.latest import latest_data_date

    data_day = latest_data_date()
    return None if data_day is None else next_trading_day(data_day)


def current(on: dt.date | None = None, history_days: int = 60) -> dict[str, Any] | None:
    """The regime of ``on`` (default: the session the latest predictions are for, else the
    newest labelled day) with the days before it."""
    on = on or forecast_session()
    query = MarketRegime.objects.order_by("-date")
    if on is not None:
        query = query.filter(date__lte=on)
    rows = list(query[: history_days + 1])
    if not rows:
        return None
    today = rows[0]
    return {
        "date": today.date.isoformat(),
        "regime": today.regime,
        "probability": today.probability,
        "probabilities": today.probabilities,
        "model_version": today.model_version,
        "method": METHOD,
        "history": [as_json(r) for r in reversed(rows[1:])],
    }


def by_date(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    rows = MarketRegime.objects.filter(date__gte=start, date__lte=end)
    return dict(rows.values_list("date", "regime"))
