"""Backtest of the forecasts: what trading on them each day would have returned.

Input: one row per (symbol, trading day D) with the forecast made from the data of an EARLIER
day (``date`` < ``trade_date`` = D; after the close of ``date``, for D = its next session) and
the return realised on D (close of the day before D to close of D). Each trading day:

- ``long_short_decile``: equal weights, +1/n on the top decile of p50, -1/n on the bottom
  decile (1 long, 1 short: gross 2, net 0);
- ``long_only_top_decile``: equal weights on the top decile (gross 1);
- ``long_short_inverse_width``: the same two deciles, each name weighted by 1/(p90 - p10)
  within its leg (confident forecasts get more capital; legs still 1 and -1).

Turnover on D is sum_i |w_i(D) - w_i(D-1)| (fractions of capital; the first day counts its
entry, weights are reset to target each day, intraday drift ignored), and costs are
``cost_bps`` basis points of it: net(D) = gross(D) - turnover(D) * cost_bps / 10,000.
The S&P 500 buy-and-hold is measured on the same trading days (index close to close).

Days with fewer than ``min_names`` predicted symbols are skipped: a decile needs names.
Everything is vectorised (groupby ranks and one days x symbols pivot), so 13 years of a
500-name universe take seconds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252
MIN_NAMES = 20
# A real daily cross-sectional forecast has a mean rank IC of a few hundredths. Forecasts that
# rank the very returns they target this well were made after those returns were known.
LOOKAHEAD_RANK_IC = 0.3

STRATEGIES = ("long_short_decile", "long_only_top_decile", "long_short_inverse_width")
BENCHMARK = "sp500_buy_and_hold"
REQUIRED_COLUMNS = ("symbol", "date", "trade_date", "p10", "p50", "p90", "realised")


class BacktestError(ValueError):
    """The inputs cannot be backtested (missing columns, no days, ...)."""


class LookAheadError(BacktestError):
    """A forecast was made on or after the trading day it would trade: refused."""


@dataclass(frozen=True)
class Options:
    cost_bps: float = 5.0
    start: dt.date | None = None
    end: dt.date | None = None
    min_names: int = MIN_NAMES


@dataclass(frozen=True)
class Result:
    """Per strategy the daily gross return, turnover and net return (index: trading days),
    and the S&P 500 close-to-close returns of the same days."""

    daily: dict[str, pd.DataFrame]
    benchmark: pd.Series
    weights: pd.DataFrame  # one row per (symbol, trading day) used, with each strategy's weight
    options: Options


# --- inputs -------------------------------------------------------------------------------------


def prepare(frame: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Checked, typed, filtered rows: refuses any forecast dated on or after its trading day."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise BacktestError(f"predictions lack columns {missing}")
    out = frame.loc[:, list(REQUIRED_COLUMNS)].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    out["trade_date"] = pd.to_datetime(out["trade_date"]).dt.normalize()
    late = out["date"] >= out["trade_date"]
    if late.any():
        first = out.loc[late].iloc[0]
        raise LookAheadError(
            f"{int(late.sum())} forecasts are dated on or after the trading day they would "
            f"trade (e.g. {first['symbol']} made {first['date']:%Y-%m-%d} for "
            f"{first['trade_date']:%Y-%m-%d}); a position may use only forecasts made before it"
        )
    out = out.dropna(subset=["p50", "realised"])
    if options.start:
        out = out[out["trade_date"] >= pd.Timestamp(options.start)]
    if options.end:
        out = out[out["trade_date"] <= pd.Timestamp(options.end)]
    # One forecast per symbol and day: the most recent one made before the day.
    out = out.sort_values(["trade_date", "symbol", "date"])
    out = out.drop_duplicates(["trade_date", "symbol"], keep="last")
    names = out.groupby("trade_date")["symbol"].transform("size")
    out = out[names >= options.min_names].reset_index(drop=True)
    if out.empty:
        raise BacktestError(
            f"no trading day has forecasts for at least {options.min_names} symbols in range"
        )
    return out


def mean_rank_ic(frame: pd.DataFrame) -> float:
    """Mean over days of the cross-sectional Spearman correlation of p50 and the realised
    return (vectorised: Pearson correlation of within-day ranks)."""
    by_day = frame.groupby("trade_date")
    rp = by_day["p50"].rank()
    rr = by_day["realised"].rank()
    rp = rp - rp.groupby(frame["trade_date"]).transform("mean")
    rr = rr - rr.groupby(frame["trade_date"]).transform("mean")
    parts = pd.DataFrame({"xy": rp * rr, "xx": rp * rp, "yy": rr * rr, "d": frame["trade_date"]})
    sums = parts.groupby("d")[["xy", "xx", "yy"]].sum()
    ic = sums["xy"] / np.sqrt(sums["xx"] * sums["yy"])
    return float(ic.replace([np.inf, -np.inf], np.nan).mean())


def check_lookahead(frame: pd.DataFrame) -> float:
    """The mean daily rank IC; raises ``LookAheadError`` when it is implausibly far from 0
    (a sign-flipped leak is as impossible as a straight one)."""
    ic = mean_rank_ic(frame)
    if abs(ic) > LOOKAHEAD_RANK_IC:
        raise LookAheadError(
            f"the forecasts rank the returns they target with a mean daily rank IC of {ic:.2f} "
            f"(beyond +-{LOOKAHEAD_RANK_IC}): they were made after those returns were known "
            "(dates shifted into the future?); refusing to backtest them"
        )
    return ic


# --- positions ----------------------------------------------------------------------------------


def _leg_weights(member: pd.Series, size: pd.Series, day: pd.Series) -> pd.Series:
    """Weights proportional to ``size`` among the members of a leg, summing to 1 per day."""
    sized = size.where(member, 0.0)
    total = sized.groupby(day).transform("sum")
    return (sized / total).fillna(0.0)


def positions(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each strategy's target weight per (symbol, trading day)."""
    day = frame["trade_date"]
    pct = frame.groupby("trade_date")["p50"].rank(method="first", pct=True)
    decile = np.clip(np.ceil(pct * 10), 1, 10)
    top, bottom = decile == 10, decile == 1
    ones = pd.Series(1.0, index=frame.index)
    width = (frame["p90"] - frame["p10"]).where(lambda w: w > 0)
    # A name without a usable interval gets the median confidence of its day.
    inverse = (1.0 / width).fillna((1.0 / width).groupby(day).transform("median")).fillna(1.0)
    out = frame.copy()
    out["decile"] = decile.astype(int)
    out["long_only_top_decile"] = _leg_weights(top, ones, day)
    out["long_short_decile"] = out["long_only_top_decile"] - _leg_weights(bottom, ones, day)
    out["long_short_inverse_width"] = _leg_weights(top, inverse, day) - _leg_weights(
        bottom, inverse, day
    )
    return out


def daily_returns(
    weights: pd.DataFrame, strategy: str, cost_bps: float, r: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Gross return, turnover and net return of one strategy per trading day (``r``: the
    days x symbols realised returns, when already pivoted)."""
    w = weights.pivot(index="trade_date", columns="symbol", values=strategy).fillna(0.0)
    if r is None:
        r = weights.pivot(index="trade_date", columns="symbol", values="realised").fillna(0.0)
    gross = (w * r).sum(axis=1)
    turnover = w.diff().abs().sum(axis=1)
    turnover.iloc[0] = w.iloc[0].abs().sum()
    net = gross - turnover * cost_bps / 10_000.0
    return pd.DataFrame({"gross": gross, "turnover": turnover, "net": net})


def benchmark_returns(days: pd.DatetimeIndex) -> pd.Series:
    """S&P 500 close-to-close return on each trading day (from the previous session)."""
    from features.market import market_close
    from ingestion.calendar import sessions

    all_days = sessions()
    wanted = days.to_numpy().astype("datetime64[D]")
    previous = all_days[np.searchsorted(all_days, wanted) - 1]
    both = np.unique(np.concatenate([wanted, previous]))
    close = pd.Series(market_close(both), index=both)
    ret = close.loc[wanted].to_numpy() / close.loc[previous].to_numpy() - 1.0
    return pd.Series(ret, index=days)


def run(frame: pd.DataFrame, options: Options) -> Result:
    """The backtest of forecasts ``frame`` (columns ``REQUIRED_COLUMNS``)."""
    rows = prepare(frame, options)
    check_lookahead(rows)
    weights = positions(rows)
    realised = weights.pivot(index="trade_date", columns="symbol", values="realised").fillna(0.0)
    daily = {s: daily_returns(weights, s, options.cost_bps, realised) for s in STRATEGIES}
    index = daily[STRATEGIES[0]].index
    return Result(daily, benchmark_returns(pd.DatetimeIndex(index)), weights, options)


# --- figures ------------------------------------------------------------------------------------


def _r(value: float, digits: int = 6) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def metrics(returns: pd.Series, turnover: pd.Series | None = None) -> dict[str, Any]:
    """Annualised return (geometric), volatility, Sharpe (no risk-free rate), maximum drawdown,
    share of positive days, mean daily turnover, number of days."""
    r = returns.dropna()
    days = int(r.size)
    if days == 0:
        return {"days": 0}
    equity = (1.0 + r).cumprod()
    std = float(r.std(ddof=1)) if days > 1 else float("nan")
    sharpe = float(r.mean()) / std * math.sqrt(TRADING_DAYS_PER_YEAR) if std else math.nan
    return {
        "annual_return": _r(float(equity.iloc[-1]) ** (TRADING_DAYS_PER_YEAR / days) - 1.0),
        "annual_vol": _r(std * math.sqrt(TRADING_DAYS_PER_YEAR)),
        "sharpe": _r(sharpe, 3),
        "max_drawdown": _r(float((equity / equity.cummax() - 1.0).min())),
        "hit_rate": _r(float((r > 0).mean()), 4),
        "turnover": _r(float(turnover.mean()), 4) if turnover is not None else 0.0,
        "days": days,
    }


def summary(result: Result) -> dict[str, Any]:
    """The JSON figures: per strategy after costs (top level) and before costs."""
    strategies: dict[str, Any] = {}
    for name, daily in result.daily.items():
        after = metrics(daily["net"], daily["turnover"])
        before = metrics(daily["gross"], daily["turnover"])
        strategies[name] = {**after, "before_costs": before}
    days = result.daily[STRATEGIES[0]].index
    names = result.weights.groupby("trade_date").size()
    return {
        "from": f"{days[0]:%Y-%m-%d}",
        "to": f"{days[-1]:%Y-%m-%d}",
        "cost_bps": result.options.cost_bps,
        "days": len(days),
        "predictions": len(result.weights),
        "symbols_per_day": {
            "min": int(names.min()),
            "median": float(names.median()),
            "max": int(names.max()),
        },
        "mean_rank_ic": _r(mean_rank_ic(result.weights), 4),
        "strategies": strategies,
        BENCHMARK: metrics(result.benchmark),
    }


def curves(result: Result) -> dict[str, list[dict[str, Any]]]:
    """Equity curves (growth of 1) per strategy after costs, and the buy-and-hold."""
    series = {name: daily["net"] for name, daily in result.daily.items()}
    series[BENCHMARK] = result.benchmark
    out = {}
    for name, returns in series.items():
        equity = (1.0 + returns.fillna(0.0)).cumprod()
        out[name] = [
            {"time": f"{d:%Y-%m-%d}", "value": round(float(v), 6)} for d, v in equity.items()
        ]
    return out


# --- the service the command and the page use ---------------------------------------------------


def _records(options: Options, database: str | None) -> pd.DataFrame:
    from core.databases import side_connection
    from decisions import sources

    if not database:
        return sources.read_records(options.start, options.end)
    with side_connection(database) as side:
        return sources.read_records(options.start, options.end, side=side)


def backtest(
    source: str,
    options: Options,
    *,
    model: str = "normal",
    path: Any = None,
    database: str | None = None,
) -> dict[str, Any]:
    """Load ``source`` ("records" or "walkforward"), run, and return the JSON figures with the
    equity curves under ``curves``. ``database`` names another database of the platform's
    server to read the records from (a kept ``replay_eval`` database). Raises
    ``BacktestError`` (``SourceMissing``, ``LookAheadError``) with a message for the user."""
    import time

    from core.machine import machine_info
    from decisions import sources

    started = time.monotonic()
    if source == sources.SourceName.RECORDS:
        frame = _records(options, database)
    elif source == sources.SourceName.WALKFORWARD:
        frame = sources.read_walkforward(model, path)
    else:
        raise BacktestError(f"unknown source {source!r}: records or walkforward")
    result = run(frame, options)
    out: dict[str, Any] = {"source": source}
    if database:
        out["database"] = database
    if source == sources.SourceName.WALKFORWARD:
        out["model"] = model
    out.update(summary(result))
    out["seconds"] = round(time.monotonic() - started, 2)
    out["machine"] = machine_info()
    out["curves"] = curves(result)
    return out
