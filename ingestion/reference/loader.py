"""``load_reference_data``: symbols, earnings events and fundamentals, idempotently.

Each table is compared with what is stored: new rows are created, rows whose values differ are
updated, equal rows are left alone, and the counts say which. A second run reports only
``unchanged``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

from ingestion.models import EarningsEvent, EarningsTiming, Fundamentals, Symbol
from ingestion.reference.earnings import merged_events
from ingestion.reference.fundamentals import fundamentals_rows
from ingestion.reference.symbols import PRICE_FILES, symbol_table
from ingestion.storage import forget_symbol_cache

K = TypeVar("K")
M = TypeVar("M", bound=Model)


def _differs(obj: Model, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


def _sync(
    model: type[M],
    existing: Mapping[K, M],
    items: Iterable[tuple[K, dict[str, Any], dict[str, Any]]],
    batch_size: int,
) -> tuple[int, int]:
    """Create the rows missing from ``existing`` and update those whose values differ, in bulk.

    ``items`` are (key in ``existing``, identifying fields, other values). Returns (created,
    updated); equal rows are left alone.
    """
    create: list[M] = []
    update: list[M] = []
    fields: set[str] = set()
    for key, identity, values in items:
        obj = existing.get(key)
        if obj is None:
            create.append(model(**identity, **values))
        elif _differs(obj, values):
            for k, v in values.items():
                setattr(obj, k, v)
            update.append(obj)
            fields.update(values)
    model._default_manager.bulk_create(create, batch_size=batch_size)
    if update:
        model._default_manager.bulk_update(update, sorted(fields), batch_size=batch_size)
    return len(create), len(update)


def load_symbols(
    data_dir: Path, only: set[str] | None, price_files: tuple[str, ...]
) -> dict[str, int]:
    table = symbol_table(data_dir, price_files)
    if only is not None:
        table = {t: v for t, v in table.items() if t in only}
    existing = {s.ticker: s for s in Symbol.objects.filter(ticker__in=list(table))}
    create: list[Symbol] = []
    update: list[Symbol] = []
    fields: set[str] = set()
    for ticker, values in table.items():
        obj = existing.get(ticker)
        if obj is None:
            create.append(Symbol(ticker=ticker, **values))
            continue
        # Never blank out a value the database has (e.g. an exchange learnt from bars).
        wanted = {k: v for k, v in values.items() if v}
        if _differs(obj, wanted):
            for k, v in wanted.items():
                if getattr(obj, k) != v:
                    setattr(obj, k, v)
                    fields.add(k)
            update.append(obj)
    Symbol.objects.bulk_create(create, batch_size=2000)
    if update:
        Symbol.objects.bulk_update(update, sorted(fields), batch_size=2000)
    return {
        "created": len(create),
        "updated": len(update),
        "unchanged": len(table) - len(create) - len(update),
    }


def load_earnings(data_dir: Path, only: set[str] | None) -> dict[str, int]:
    events = merged_events(data_dir)
    if only is not None:
        events = events[events["ticker"].isin(only)]
    ids = dict(
        Symbol.objects.filter(ticker__in=events["ticker"].unique()).values_list("ticker", "id")
    )
    known = events["ticker"].isin(ids)
    skipped = events[~known]
    events = events[known]
    existing = {
        (e.symbol_id, e.date): e
        for e in EarningsEvent.objects.filter(symbol_id__in=set(ids.values()))
    }

    def items() -> Iterator[tuple[tuple[int, dt.date], dict[str, Any], dict[str, Any]]]:
        for r in events.itertuples(index=False):
            values = {
                "reaction_date": r.reaction_date,
                "timing": EarningsTiming.UNKNOWN,
                "eps_estimate": None if r.eps_estimate != r.eps_estimate else float(r.eps_estimate),
                "eps_actual": None if r.eps_actual != r.eps_actual else float(r.eps_actual),
                "source": r.source,
            }
            sid = ids[r.ticker]
            yield (sid, r.date), {"symbol_id": sid, "date": r.date}, values

    created, updated = _sync(EarningsEvent, existing, items(), batch_size=5000)
    return {
        "created": created,
        "updated": updated,
        "unchanged": len(events) - created - updated,
        "skipped_unknown_ticker": len(skipped),
        "skipped_tickers": int(skipped["ticker"].nunique()),
    }


def load_fundamentals(data_dir: Path, only: set[str] | None) -> dict[str, int]:
    rows = fundamentals_rows(data_dir)
    if only is not None:
        rows = [r for r in rows if r["ticker"] in only]
    ids = dict(
        Symbol.objects.filter(ticker__in={r["ticker"] for r in rows}).values_list("ticker", "id")
    )
    existing = {
        (f.symbol_id, f.period_end, f.period_type): f
        for f in Fundamentals.objects.filter(symbol_id__in=set(ids.values()))
    }
    known = [row for row in rows if row["ticker"] in ids]
    skipped = len(rows) - len(known)

    def items() -> Iterator[tuple[tuple[int, dt.date, str], dict[str, Any], dict[str, Any]]]:
        for row in known:
            sid = ids[row["ticker"]]
            identity = {"symbol_id": sid, "period_end": row["period_end"],
                        "period_type": row["period_type"]}  # fmt: skip
            values = {
                k: v for k, v in row.items() if k not in ("ticker", "period_end", "period_type")
            }
            yield (sid, row["period_end"], row["period_type"]), identity, values

    created, updated = _sync(Fundamentals, existing, items(), batch_size=1000)
    return {
        "created": created,
        "updated": updated,
        "unchanged": len(rows) - skipped - created - updated,
        "skipped_unknown_ticker": skipped,
    }


def load_reference_data(
    data_dir: Path, only: set[str] | None = None, price_files: tuple[str, ...] = PRICE_FILES
) -> dict[str, dict[str, int]]:
    with transaction.atomic():
        result = {
            "symbols": load_symbols(data_dir, only, price_files),
            "earnings_events": load_earnings(data_dir, only),
            "fundamentals": load_fundamentals(data_dir, only),
        }
    forget_symbol_cache()
    return result
