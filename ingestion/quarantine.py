"""Releasing quarantined bars: re-validate with today's context, or force-store with a reason.

Re-validation rebuilds the bar's context from what is stored now: the stored close before it
(``previous_closes``) and the stored bar after it, if any. A ``jump_unconfirmed`` bar whose next
bar has since arrived and confirmed the level passes; a bad tick stays rejected. Conflicting
duplicates pass once the operator releases the one copy they trust. Every release is an
``IngestionRun`` (mode ``release``) with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from django.db import transaction
from django.utils import timezone

from ingestion.models import IngestionRun, PriceBar, QuarantinedBar, QuarantineReason
from ingestion.storage import known_symbols, previous_closes, store_bars
from ingestion.validation import validate


@dataclass
class ReleaseResult:
    released: list[int] = field(default_factory=list)
    forced: list[int] = field(default_factory=list)
    still_rejected: dict[int, str] = field(default_factory=dict)  # id -> reason now


def _frame(bars: list[QuarantinedBar]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": [b.ticker for b in bars],
            "exchange": ["" for _ in bars],
            "date": pd.to_datetime(
                [b.timestamp.date() if b.timestamp else None for b in bars]
            ).to_numpy(dtype="datetime64[s]"),
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [b.volume for b in bars],
        }
    ).astype(dict.fromkeys(("open", "high", "low", "close", "volume"), "float64"))


def _next_stored(bar: QuarantinedBar) -> pd.DataFrame | None:
    nxt = (
        PriceBar.objects.filter(
            symbol__ticker=bar.ticker, interval=bar.interval, timestamp__gt=bar.timestamp
        )
        .order_by("timestamp")
        .first()
    )
    if nxt is None:
        return None
    return pd.DataFrame(
        {
            "symbol": [bar.ticker],
            "exchange": [""],
            "date": pd.to_datetime([nxt.timestamp.date()]).to_numpy(dtype="datetime64[s]"),
            "open": [nxt.open],
            "high": [nxt.high],
            "low": [nxt.low],
            "close": [nxt.close],
            "volume": [nxt.volume],
        }
    )


def _complete(bar: QuarantinedBar) -> bool:
    """A bar with a missing value or date cannot become a PriceBar, even when forced."""
    values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    return bar.timestamp is not None and all(v is not None and v == v for v in values)


def _recheck(bar: QuarantinedBar, *, force: bool, result: ReleaseResult) -> str | None:
    """Re-validate one pending bar (with the next stored bar, when there is one): the status to
    store it with, or None when it stays quarantined (recorded in ``result``)."""
    one = _frame([bar])
    if bar.reason == QuarantineReason.UNKNOWN_SYMBOL and not known_symbols([bar.ticker]):
        # Still unknown: only an operator's force-store (which registers the symbol) lets it in.
        if force and _complete(bar):
            return QuarantinedBar.Status.FORCED
        result.still_rejected[bar.pk] = bar.reason
        return None
    nxt = _next_stored(bar) if bar.timestamp else None
    frame = one if nxt is None else pd.concat([one, nxt], ignore_index=True)
    verdict = validate(frame, previous_closes(one, bar.interval))
    mine = verdict.rejected[
        verdict.rejected["date"].to_numpy(dtype="datetime64[D]")
        == one["date"].to_numpy(dtype="datetime64[D]")[0]
    ]
    if mine.empty:
        return QuarantinedBar.Status.RELEASED
    if force and _complete(bar):
        return QuarantinedBar.Status.FORCED
    reason = str(mine["reason"].iloc[0])
    result.still_rejected[bar.pk] = reason
    if reason != bar.reason:  # e.g. a held jump now known to be a bad tick
        bar.reason = reason
        bar.detail = str(mine["detail"].iloc[0])
        bar.save(update_fields=["reason", "detail"])
    return None


def release(ids: list[int], *, force: bool = False, note: str = "") -> ReleaseResult:
    """Re-validate the pending bars ``ids`` and store those that pass; with ``force``, store the
    rest too, recording ``note`` (required) as the reason."""
    if force and not note.strip():
        raise ValueError("Force-storing a quarantined bar needs a recorded reason")
    result = ReleaseResult()
    run = IngestionRun.objects.create(
        provider="quarantine", mode=IngestionRun.Mode.RELEASE, params={"ids": ids, "force": force}
    )
    with transaction.atomic():
        bars = list(
            QuarantinedBar.objects.select_for_update()
            .filter(pk__in=ids, status=QuarantinedBar.Status.PENDING)
            .order_by("ticker", "timestamp")
        )
        to_store: list[tuple[QuarantinedBar, str]] = []
        for bar in bars:
            status = _recheck(bar, force=force, result=result)
            if status is not None:
                to_store.append((bar, status))
        now = timezone.now()
        counts = None
        if to_store:
            counts = store_bars(_frame([b for b, _ in to_store]), source="quarantine")
            for bar, status in to_store:
                bar.status = status
                bar.resolved_at = now
                bar.resolution_note = note or "passed re-validation"
                bar.save(update_fields=["status", "resolved_at", "resolution_note"])
                (
                    result.forced if status == QuarantinedBar.Status.FORCED else result.released
                ).append(bar.pk)
        run.received = len(bars)
        run.accepted = len(to_store)
        if counts:
            run.inserted, run.updated, run.unchanged = (
                counts.inserted,
                counts.updated,
                counts.unchanged,
            )
        run.quarantined = len(result.still_rejected)
        run.status = IngestionRun.Status.OK
        run.finished_at = timezone.now()
        run.save()
    return result
