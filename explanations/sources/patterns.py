"""Historical pattern notes: how a symbol's price moved around its past earnings releases.

One note per symbol per checkpoint (every fifth year-end, and the latest event), covering only
the events up to that date, so a retrieval made "as of" a replayed date never shows
statistics that use later data. Computed from
PriceBar + EarningsEvent (``reaction_date``) when the database has them, otherwise from the shared
CSVs (prices + SEC 8-K Item 2.02 dates); there the reaction day is unknown (the 8-K is filed on
the release day or the day after), so the move measured is the two-day close-to-close window
close(d-1) -> close(d+1) around the first trading day d on or after the filing date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings

from explanations.chunking import TextChunk
from explanations.sources.base import DocumentSpec

MIN_EVENTS = 4
CHECKPOINT_YEARS = 5


@dataclass
class EventMoves:
    symbol: str
    event_dates: np.ndarray  # datetime64[D], the reaction/anchor trading day
    moves: np.ndarray  # float, the reaction-window return
    day_dates: np.ndarray  # every trading day with a window return (baseline)
    day_moves: np.ndarray
    window: str  # "1-day" or "2-day"
    basis: str


def _from_db(symbols: list[str] | None) -> list[EventMoves]:
    from ingestion.models import EarningsEvent, PriceBar

    events = EarningsEvent.objects.filter(reaction_date__isnull=False)
    if symbols:
        events = events.filter(symbol__ticker__in=symbols)
    by_symbol: dict[str, list[date]] = {}
    for ticker, reaction in events.values_list("symbol__ticker", "reaction_date"):
        if reaction is not None:  # filtered above; the type does not know
            by_symbol.setdefault(ticker, []).append(reaction)
    out: list[EventMoves] = []
    for ticker, reactions in sorted(by_symbol.items()):
        bars = list(
            PriceBar.objects.filter(symbol__ticker=ticker, interval="1d")
            .order_by("timestamp")
            .values_list("timestamp", "close")
        )
        if len(bars) < 3:
            continue
        dates = np.array([b[0].date() for b in bars], dtype="datetime64[D]")
        close = np.array([b[1] for b in bars], dtype=float)
        rets = close[1:] / close[:-1] - 1.0
        pos = {d: i for i, d in enumerate(dates)}
        ev_dates, ev_moves = [], []
        for r in sorted(reactions):
            i = pos.get(np.datetime64(r, "D"))
            if i is not None and i >= 1 and np.isfinite(rets[i - 1]):
                ev_dates.append(dates[i])
                ev_moves.append(rets[i - 1])
        out.append(
            EventMoves(
                ticker,
                np.array(ev_dates, dtype="datetime64[D]"),
                np.array(ev_moves),
                dates[1:],
                rets,
                "1-day",
                "PriceBar close-to-close return on EarningsEvent.reaction_date",
            )
        )
    return out


def _from_csv(symbols: list[str] | None) -> list[EventMoves]:
    data = settings.SHARED_DATA_DIR
    earnings = pd.read_csv(data / "earnings" / "earnings_dates_edgar8k_2003_2025.csv")
    earnings.columns = [c.strip().lower() for c in earnings.columns]
    tickers = set(earnings["ticker"].astype(str).str.upper())
    if symbols:
        tickers &= {s.upper() for s in symbols}
    prices = pd.read_csv(
        data / "prices" / "sp500_members_daily_2005_2025.csv.gz",
        usecols=["symbol", "date", "close"],
    )
    prices = prices[prices["symbol"].isin(tickers)]
    out: list[EventMoves] = []
    for ticker, frame in prices.groupby("symbol", sort=True):
        frame = frame.sort_values("date")
        dates = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
        close = frame["close"].to_numpy(dtype=float)
        if len(close) < 10:
            continue
        two_day = close[2:] / close[:-2] - 1.0  # window centred on day i: close(i-1)->close(i+1)
        centre = dates[1:-1]
        ev = pd.to_datetime(earnings.loc[earnings["ticker"] == ticker, "earnings_date"])
        ev_days = np.unique(ev.to_numpy().astype("datetime64[D]"))
        idx = np.searchsorted(centre, ev_days, side="left")
        ok = idx < len(centre)
        idx = idx[ok]
        # Ignore filings whose next trading day is more than 5 days away (a data gap).
        near = (centre[idx] - ev_days[ok]).astype(int) <= 5
        idx = np.unique(idx[near])
        moves = two_day[idx]
        finite = np.isfinite(moves)
        out.append(
            EventMoves(
                str(ticker),
                centre[idx][finite],
                moves[finite],
                centre,
                two_day,
                "2-day",
                "shared CSVs: close(d-1)->close(d+1) around the SEC 8-K Item 2.02 filing date",
            )
        )
    return out


def _db_has_events() -> bool:
    """Both halves must be loaded: events with reaction dates and daily bars."""
    from ingestion.models import EarningsEvent, PriceBar

    return (
        EarningsEvent.objects.filter(reaction_date__isnull=False).exists()
        and PriceBar.objects.filter(interval="1d").exists()
    )


def pattern_note(em: EventMoves, as_of: np.datetime64) -> DocumentSpec | None:
    mask = em.event_dates <= as_of
    moves = em.moves[mask]
    if len(moves) < MIN_EVENTS:
        return None
    dates = em.event_dates[mask]
    base = em.day_moves[(em.day_dates <= as_of) & np.isfinite(em.day_moves)]
    base_abs = float(np.mean(np.abs(base))) if len(base) else float("nan")
    mean_abs = float(np.mean(np.abs(moves)))
    ratio = mean_abs / base_abs if base_abs > 0 else float("nan")
    largest = int(np.argmax(np.abs(moves)))
    recent = ", ".join(
        f"{d!s} {m * 100:+.1f}%" for d, m in zip(dates[-4:], moves[-4:], strict=True)
    )
    year = str(as_of)[:4]
    text = (
        f"{em.symbol} earnings reactions through {as_of!s}: over {len(moves)} past releases "
        f"since {str(dates[0])[:4]}, the {em.window} move around the release averaged "
        f"{np.mean(moves) * 100:+.2f}% (signed) and {mean_abs * 100:.2f}% in absolute terms "
        f"(median absolute {np.median(np.abs(moves)) * 100:.2f}%). The stock rose after "
        f"{np.mean(moves > 0) * 100:.0f}% of releases. A typical {em.window} move on other days "
        f"was {base_abs * 100:.2f}% in absolute terms, so earnings windows moved "
        f"{ratio:.1f} times as much as ordinary days. The largest reaction was "
        f"{moves[largest] * 100:+.1f}% on {dates[largest]!s}. Most recent reactions: {recent}."
    )
    return DocumentSpec(
        source="pattern",
        external_id=f"{em.symbol}_earnings_moves_{year}",
        title=f"{em.symbol} historical earnings reactions (through {year})",
        chunks=[TextChunk(text=text, section="Earnings reactions")],
        symbol=em.symbol,
        section="Earnings reactions",
        date=date.fromisoformat(str(as_of)),
        metadata={
            "events": len(moves),
            "mean_move": round(float(np.mean(moves)), 6),
            "mean_abs_move": round(mean_abs, 6),
            "baseline_mean_abs_move": round(base_abs, 6),
            "window": em.window,
            "basis": em.basis,
        },
    )


def iter_patterns(*, symbols: list[str] | None = None) -> Iterator[DocumentSpec]:
    moves = _from_db(symbols) if _db_has_events() else _from_csv(symbols)
    for em in moves:
        if len(em.event_dates) == 0:
            continue
        first_year = int(str(em.event_dates[0])[:4])
        last = em.event_dates[-1]
        # Year-ends 2004, 2009, 2014, ... (every CHECKPOINT_YEARS) keep the corpus small.
        checkpoints = [
            np.datetime64(f"{y}-12-31", "D")
            for y in range(first_year, int(str(last)[:4]))
            if y % CHECKPOINT_YEARS == 4
        ]
        checkpoints.append(last)
        for as_of in checkpoints:
            spec = pattern_note(em, as_of)
            if spec is not None:
                yield spec
