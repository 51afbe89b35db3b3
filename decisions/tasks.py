"""Celery tasks of decisions (queue ``features``: daily market data work)."""

from __future__ import annotations

from celery import shared_task

from decisions import regime, regime_store


@shared_task(name="decisions.tasks.update_regime", soft_time_limit=120, time_limit=180)
def update_regime() -> int:
    """Relabel the current year (and the next session) with a model fitted on the years
    before it; earlier years keep their stored labels."""
    series = regime.market_returns()
    year = int(series.index[-1].year)
    labels = [
        found for y in (year, year + 1) if (found := regime.label_year(series, y)) is not None
    ]
    return regime_store.save(labels) if labels else 0
