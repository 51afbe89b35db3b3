"""What the bench's platform starts from, in its scratch database: the N symbols of the replay
file with a bar on every day used, their first ``history`` days stored (a backfill; every
technical feature needs 253 days, or a symbol is not predicted), the S&P 500 index, the replay
file of those symbols for the live cycle to step through, toy contract models active, and an
enterprise user (no rate limit) with an access token for the load generators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

US_FILE = "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz"
SPARE_SYMBOLS = 500  # candidates beyond the count asked for, to replace dirty ones


@dataclass
class World:
    tickers: list[str]
    prices: Path
    start_day: str  # the first day the replay clock emits
    days: int  # replay days after the history
    token: str
    backfill_s: float
    filled_bars: int


def _complete_panel(symbols: int, days_needed: int) -> tuple[pd.DataFrame, int]:
    """Bars of ``symbols`` tickers over the last ``days_needed`` days of the file (0: all), and
    how many bars were filled in.

    The file has 4,800 tickers with a bar on each of its 500 days, 5,155 that trade on the first
    and the last day and miss at most 5 in between. The most complete of those are taken (ties
    alphabetically) and a missing day is filled with a flat bar at the previous close and volume,
    so every symbol owes a prediction every day.
    Symbols with a bar the validation rejects, or a run of zero-volume days, are replaced by the
    next most complete ones."""
    from ingestion.frames import read_price_csv
    from ingestion.validation import validate

    bars = read_price_csv(Path(settings.SHARED_DATA_DIR) / US_FILE)
    days = np.unique(bars["date"].to_numpy(dtype="datetime64[D]"))
    days = days[-days_needed:] if days_needed else days
    bars = bars[bars["date"] >= pd.Timestamp(days[0])].drop_duplicates(["symbol", "date"])
    span = bars.groupby("symbol")["date"].agg(["min", "max", "nunique"])
    span = span[(span["min"] == pd.Timestamp(days[0])) & (span["max"] == pd.Timestamp(days[-1]))]
    ranked = list(span["nunique"].sort_values(ascending=False, kind="stable").index)
    keep = sorted(ranked[: symbols + SPARE_SYMBOLS])
    grid = pd.MultiIndex.from_product([keep, pd.to_datetime(days)], names=["symbol", "date"])
    full = bars[bars["symbol"].isin(keep)].set_index(["symbol", "date"]).reindex(grid)
    full_missing = full["close"].isna().groupby(level="symbol").sum()
    by_symbol = full.groupby(level="symbol")
    full["close"] = by_symbol["close"].ffill()
    full["exchange"] = by_symbol["exchange"].ffill()
    for col in ("open", "high", "low"):
        full[col] = full[col].fillna(full["close"])
    # The previous volume too: a run of zero-volume days leaves ``volume_ratio_k`` undefined
    # (0 / 0) and the symbol unpredicted for k days (measured: one symbol missing for 17 days).
    full["volume"] = by_symbol["volume"].ffill()
    full = full.reset_index()
    # A symbol with a bar the validation rejects (a bad tick, an unconfirmed jump) is left out:
    # it owes no prediction that day and its features stay undefined for up to a year after,
    # which would blur what "lost" means.
    dirty = set(validate(full).rejected["symbol"]) | _silent_symbols(full)
    chosen = [t for t in ranked if t in set(keep) and t not in dirty][:symbols]
    full = full[full["symbol"].isin(chosen)].reset_index(drop=True)
    missing = int(full_missing.loc[full_missing.index.isin(chosen)].sum())
    return full, missing


def _silent_symbols(bars: pd.DataFrame) -> set[str]:
    """Symbols with 5 days in a row of zero volume somewhere: their ``volume_ratio_5d`` is 0/0,
    so the platform rightly does not predict them then (MULN: its split-adjusted volume is 0 for
    weeks), which the accounting would count as lost."""
    silent = bars["volume"].eq(0).groupby(bars["symbol"]).rolling(5).sum().groupby(level=0).max()
    return set(silent[silent >= 5].index)


def _token() -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    user, _ = User.objects.get_or_create(username="bench-faults", defaults={"tier": "enterprise"})
    return str(AccessToken.for_user(user))


def build(
    workdir: Path, symbols: int, history: int, replay_days: int, *, horizons: bool = False
) -> World:
    """Fill the (already switched-to) scratch database; write the replay file. ``horizons``:
    the 5- and 20-day models active too (as the platform runs since issue 19)."""
    import time

    from ingestion.frames import read_index_csv
    from ingestion.pipeline import ingest_frame
    from ingestion.storage import forget_symbol_cache
    from predictions.benchmarks.universe import install_models
    from predictions.pipeline import runtime

    bars, filled = _complete_panel(symbols, history + replay_days if replay_days else 0)
    days = np.unique(bars["date"].to_numpy(dtype="datetime64[D]"))
    start = days[history]
    prices = workdir / "prices.csv"
    bars.assign(date=bars["date"].dt.strftime("%Y-%m-%d")).to_csv(prices, index=False)
    forget_symbol_cache()
    t = time.perf_counter()
    ingest_frame(bars[bars["date"] < pd.Timestamp(start)], provider="replay", mode="backfill")
    # The market features read the S&P 500 (^GSPC), stored ahead for every day as `make run`'s
    # bootstrap does; it is not part of the replayed universe.
    index = read_index_csv(
        Path(settings.SHARED_DATA_DIR) / "index",
        start=pd.Timestamp(days[0]).date(),
        end=pd.Timestamp(days[-1]).date(),
    )
    ingest_frame(index, provider="replay", mode="backfill")
    backfill_s = time.perf_counter() - t
    runtime.clear_cache()
    install_models(workdir / "models", "bench", horizons=horizons)
    return World(
        tickers=sorted(bars["symbol"].unique().tolist()),
        prices=prices,
        start_day=str(start),
        days=len(days) - history,
        token=_token(),
        backfill_s=round(backfill_s, 1),
        filled_bars=filled,
    )


def replay_env(world: World, period_s: float) -> dict[str, str]:
    """Settings of the bench's processes (environment, read by config.settings)."""
    return {
        "REPLAY_PRICES_FILE": str(world.prices),
        "REPLAY_START_DATE": world.start_day,
        "REPLAY_PERIOD_SECONDS": str(period_s),
        "MARKET_DATA_PROVIDER": "replay",
        "LOG_FORMAT": "text",
    }


def day_stamp(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
