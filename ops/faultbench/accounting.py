"""Lost and duplicated predictions, from what is stored.

What the cycles should have produced: every successful live ingestion run (``IngestionRun``,
mode live, status ok) stored one trading day; each such day owes one ``PredictionRecord`` per
symbol with a stored bar that day (the bench's symbols trade every day; a bar held in the
quarantine is not stored and owes nothing). What they did produce: the
``PredictionRecord`` rows of those days. ``lost`` = (symbol, day) pairs without a row;
``duplicates`` = rows beyond the first of a (symbol, day) pair. Reads retry across a
PostgreSQL restart (the bench's own connection dies with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count, Max

from ops.faultbench.world import day_stamp

T = TypeVar("T")


def retrying(read: Callable[[], T], timeout: float = 60.0) -> T:
    started = time.monotonic()
    while True:
        try:
            return read()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.5)


def last_live_run() -> int:
    from ingestion.models import IngestionRun

    def read() -> int:
        found = IngestionRun.objects.filter(mode=IngestionRun.Mode.LIVE).aggregate(m=Max("pk"))
        return int(found["m"] or 0)

    return retrying(read)


def live_days(after: int, upto: int | None = None) -> list[str]:
    """Trading days stored by the successful live runs with ``after < pk <= upto``."""
    from ingestion.models import IngestionRun

    def read() -> list[str]:
        runs = IngestionRun.objects.filter(
            mode=IngestionRun.Mode.LIVE, status=IngestionRun.Status.OK, pk__gt=after
        )
        if upto is not None:
            runs = runs.filter(pk__lte=upto)
        return sorted({str(p["date"])[:10] for p in runs.values_list("params", flat=True)})

    return retrying(read)


def per_day(days: list[str]) -> dict[str, tuple[int, int]]:
    """day -> (symbols with a record, records)."""
    from predictions.models import PredictionRecord

    def read() -> dict[str, tuple[int, int]]:
        rows = (
            PredictionRecord.objects.filter(data_timestamp__in=[day_stamp(d) for d in days])
            .values("data_timestamp")
            .annotate(symbols=Count("symbol_id", distinct=True), records=Count("id"))
        )
        return {r["data_timestamp"].date().isoformat(): (r["symbols"], r["records"]) for r in rows}

    return retrying(read)


def stored_bars(days: list[str]) -> dict[str, int]:
    """day -> equity symbols whose bar the live cycle stored that day: each owes a prediction.
    A bar held in the quarantine (an unconfirmed jump) is not predicted that day, also when the
    next day's bar releases it into the table (``source`` "quarantine")."""
    from ingestion.models import AssetType, PriceBar

    def read() -> dict[str, int]:
        rows = (
            PriceBar.objects.filter(
                timestamp__in=[day_stamp(d) for d in days], symbol__asset_type=AssetType.EQUITY
            )
            .exclude(source="quarantine")
            .values("timestamp")
            .annotate(n=Count("symbol_id", distinct=True))
        )
        return {r["timestamp"].date().isoformat(): r["n"] for r in rows}

    return retrying(read)


def settle(days: list[str], idle: Callable[[], bool], timeout: float) -> float:
    """Wait until every day has all its records, or the pipeline is idle (no message queued or
    held: nothing more is coming, the clock being paused), or ``timeout``; the seconds waited."""
    started = time.monotonic()
    owed = stored_bars(days)
    idle_polls = 0
    while time.monotonic() - started < timeout:
        found = per_day(days)
        if all(found.get(d, (0, 0))[0] >= owed.get(d, 0) for d in days):
            break
        idle_polls = idle_polls + 1 if idle() else 0
        if idle_polls >= 10:  # 5 s in a row: a message between two queues is never that slow
            break
        time.sleep(0.5)
    return time.monotonic() - started


def account(days: list[str]) -> dict[str, Any]:
    owed = stored_bars(days)
    found = per_day(days)
    have = sum(found.get(d, (0, 0))[0] for d in days)
    records = sum(found.get(d, (0, 0))[1] for d in days)
    expected = sum(owed.get(d, 0) for d in days)
    short = {d: owed.get(d, 0) - found.get(d, (0, 0))[0] for d in days}
    return {
        "predictions_expected": expected,
        "lost": expected - have,
        "duplicates": records - have,
        "lost_by_day": {d: n for d, n in short.items() if n},
    }


def first_prediction_after(since_wall: float) -> bool:
    """Whether a record was predicted after the wall-clock time ``since_wall`` (epoch s)."""
    import datetime as dt

    from predictions.models import PredictionRecord

    stamp = dt.datetime.fromtimestamp(since_wall, tz=dt.UTC)
    return retrying(lambda: PredictionRecord.objects.filter(predicted_at__gt=stamp).exists())
