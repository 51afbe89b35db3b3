"""One ingestion run: validate a bar frame, store what passed, quarantine what did not, and record
an ``IngestionRun`` with the counts. Every provider and both modes (backfill, live) end here."""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from ingestion.models import IngestionRun, Interval
from ingestion.quarantine import release
from ingestion.storage import (
    Previous,
    known_symbols,
    previous_closes,
    quarantine_bars,
    store_bars,
)
from ingestion.validation import validate

log = logging.getLogger(__name__)


def ingest_frame(
    df: pd.DataFrame,
    *,
    provider: str,
    mode: str,
    source: str | None = None,
    params: dict[str, Any] | None = None,
    interval: str = Interval.DAY,
    known_only: bool | None = None,
) -> dict[str, Any]:
    """Validate + store + quarantine ``df`` in one transaction; returns the run summary.

    ``known_only`` (default: live mode) quarantines bars of symbols missing from the reference
    table as ``unknown_symbol`` instead of creating the symbol, as a backfill does."""
    source = source or provider
    if known_only is None:
        known_only = mode == IngestionRun.Mode.LIVE
    run = IngestionRun.objects.create(provider=provider, mode=mode, params=params or {})
    started = time.perf_counter()
    try:
        with transaction.atomic():
            known = known_symbols(df["symbol"].to_numpy(dtype=object)) if known_only else None
            previous = _previous(df, interval, known)
            t_val = time.perf_counter()
            result = validate(df, previous, known)
            validate_s = time.perf_counter() - t_val
            counts = store_bars(result.accepted, source, interval)
            new_q = quarantine_bars(result.rejected, run.pk, source, interval)
            held = _resolve_held_jumps(previous, result.accepted)
            run.received = len(df)
            run.accepted = len(result.accepted)
            run.inserted, run.updated, run.unchanged = (
                counts.inserted,
                counts.updated,
                counts.unchanged,
            )
            run.quarantined = len(result.rejected)
            run.quarantine_new = new_q
            run.duplicates = result.duplicates
            run.status = IngestionRun.Status.OK
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:
        run.status = IngestionRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    summary = run_summary(run)
    summary["quarantine_reasons"] = result.counts
    if held:
        summary["held_jumps"] = held
    summary["validate_s"] = round(validate_s, 3)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    log.info("ingestion run %s: %s", run.pk, summary)
    return summary


def _previous(df: pd.DataFrame, interval: str, known: set[str] | None) -> dict[str, Previous]:
    """The stored bars before the batch, for the known symbols only (looking an unknown one up
    would create it)."""
    if known is not None and len(df):
        df = df[df["symbol"].isin(list(known))]
    return previous_closes(df, interval) if len(df) else {}


def _resolve_held_jumps(previous: dict[str, Previous], accepted: pd.DataFrame) -> dict[str, Any]:
    """A bar held as ``jump_unconfirmed`` is decided once the next bar of its ticker is stored:
    re-validated with it, it is released (the level held) or stays quarantined as
    ``jump_reverted`` (a bad tick)."""
    if accepted.empty:
        return {}
    tickers = set(accepted["symbol"])
    ids = [p.held_id for t, p in previous.items() if p.held_id and t in tickers]
    if not ids:
        return {}
    outcome = release(ids)
    return {"released": len(outcome.released), "reverted": len(outcome.still_rejected)}


def run_summary(run: IngestionRun) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "provider": run.provider,
        "mode": run.mode,
        "status": run.status,
        "received": run.received,
        "accepted": run.accepted,
        "inserted": run.inserted,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "quarantined": run.quarantined,
        "quarantine_new": run.quarantine_new,
        "duplicates": run.duplicates,
    }
