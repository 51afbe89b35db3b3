"""Vectorised validation of a bar frame: every bar is accepted or rejected with a reason.

Rules, in the order a bar's reason is chosen (``detail`` lists every rule it broke):

1. identical duplicates (same symbol, date and values) collapse to one bar, counted in
   ``duplicates``; conflicting duplicates (same symbol and date, different values) are all
   rejected as ``conflicting_duplicate``: there is no way to tell which copy is right;
2. ``missing_price``: open/high/low/close missing, unparseable, NaN or infinite, or the date
   unparseable;
3. ``non_positive_price``: any of open/high/low/close <= 0;
4. ``high_below_low``;
5. ``open_outside_range`` / ``close_outside_range``: open or close outside [low, high];
6. ``negative_volume``: volume < 0 or missing (NaN, -inf); zero is a real, thin trading day;
7. ``absurd_volume``: volume above ``MAX_DAILY_VOLUME`` (1e11 shares) or +inf: no stock has ever
   traded that many shares in a day, so it is a unit or overflow error of the feed;
8. ``not_trading_day``: not an NYSE session (``ingestion.calendar``);
9. implausible jump, on the bars that passed 2-7, per symbol in date order, with
   ``r = ln(close_t / close_prev)``:
   - ``jump_reverted`` (a bad tick): ``|r| > ln(JUMP_RATIO)`` (x3 or /3 in one day) and the
     next close returns to the previous level, ``|ln(close_next / close_prev)| <
     ln(REVERT_TOLERANCE)`` (within 25 %). A decimal-shifted close (x10, /10) is the typical case;
   - ``jump_unconfirmed``: the same jump on the latest bar of a series, whose next bar is not
     known yet (the live cycle). It is held until an operator (or a later re-validation in the
     admin, when the next bar exists) releases it. A real x3 move on a micro-cap is then stored
     once confirmed, and a real one-day spike that reverts (GME-like) is below x3 so not touched.
   ``close_prev`` is the previous bar in the batch, or the stored close the caller passes in
   ``previous`` for the first bar of each symbol.

``unknown_symbol`` comes before every other rule when the caller passes ``known`` (the live cycle
does: its quotes must be for symbols of the reference table; a backfill from the price files is
what registers new symbols, so it passes none): a quote for a ticker the platform does not know
(a typo, a delisted or renamed symbol, a provider's junk row) is kept aside, not turned into a
new symbol, and the other symbols' bars go on.

Everything is NumPy/pandas over whole columns; only rejected bars (few) are touched one by one to
write their human-readable detail.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ingestion.calendar import is_trading_day_array
from ingestion.frames import PRICE_COLUMNS
from ingestion.models import QuarantineReason as R

if TYPE_CHECKING:
    from ingestion.storage import Previous

# ticker -> what precedes its first bar: a stored close or a ``storage.Previous``.
PreviousBars = Mapping[str, "float | Previous"]
Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]
Ints = NDArray[np.int64]

JUMP_RATIO = 3.0
# Shares traded in one day above which a volume is a data error, not a market event: the largest
# US single-stock days are a few billion shares; 1e11 leaves a factor of 20 of headroom.
MAX_DAILY_VOLUME = 1e11
REVERT_TOLERANCE = 1.25

# Priority order of the row rules (the first one broken becomes the reason).
_ROW_RULES = [
    R.UNKNOWN_SYMBOL,
    R.MISSING_PRICE,
    R.NON_POSITIVE_PRICE,
    R.HIGH_BELOW_LOW,
    R.OPEN_OUTSIDE_RANGE,
    R.CLOSE_OUTSIDE_RANGE,
    R.NEGATIVE_VOLUME,
    R.ABSURD_VOLUME,
    R.NOT_TRADING_DAY,
]


@dataclass
class ValidationResult:
    accepted: pd.DataFrame
    rejected: pd.DataFrame  # bar columns + "reason", "detail"
    duplicates: int  # identical copies collapsed

    @property
    def counts(self) -> dict[str, int]:
        return self.rejected["reason"].value_counts().to_dict() if len(self.rejected) else {}


def _fmt(x: float | None) -> str:
    return "missing" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:g}"


def _row_masks(df: pd.DataFrame, known: Collection[str] | None = None) -> dict[str, Mask]:
    o, h, lo, c, v = (df[k].to_numpy(dtype="float64") for k in PRICE_COLUMNS)
    unknown = (
        np.zeros(len(df), dtype=bool)
        if known is None
        else ~df["symbol"].isin(list(known)).to_numpy(dtype=bool)
    )
    date = df["date"].to_numpy(dtype="datetime64[D]")
    with np.errstate(invalid="ignore"):
        # Infinite prices (a provider's overflow or division by zero) are no more a price than
        # NaN is: both are "missing".
        missing = (
            ~np.isfinite(o) | ~np.isfinite(h) | ~np.isfinite(lo) | ~np.isfinite(c) | np.isnat(date)
        )
        return {
            R.UNKNOWN_SYMBOL: unknown,
            R.MISSING_PRICE: missing,
            R.NON_POSITIVE_PRICE: (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0),
            R.HIGH_BELOW_LOW: h < lo,
            R.OPEN_OUTSIDE_RANGE: (o < lo) | (o > h),
            R.CLOSE_OUTSIDE_RANGE: (c < lo) | (c > h),
            R.NEGATIVE_VOLUME: np.isnan(v) | (v < 0),
            R.ABSURD_VOLUME: v > MAX_DAILY_VOLUME,  # +inf included
            R.NOT_TRADING_DAY: ~np.isnat(date) & ~is_trading_day_array(date),
        }


def _row_detail(row: pd.Series, reasons: list[str]) -> str:
    parts = []
    for reason in reasons:
        if reason == R.UNKNOWN_SYMBOL:
            parts.append(f"{row['symbol']} is not in the symbols reference table")
        elif reason == R.MISSING_PRICE:
            parts.append(
                "missing value: "
                + ", ".join(f"{k}={_fmt(row[k])}" for k in ("open", "high", "low", "close"))
                + (", date unparseable" if pd.isna(row["date"]) else "")
            )
        elif reason == R.NON_POSITIVE_PRICE:
            bad = [f"{k}={_fmt(row[k])}" for k in ("open", "high", "low", "close") if row[k] <= 0]
            parts.append("non-positive price: " + ", ".join(bad))
        elif reason == R.HIGH_BELOW_LOW:
            parts.append(f"high {_fmt(row['high'])} < low {_fmt(row['low'])}")
        elif reason == R.OPEN_OUTSIDE_RANGE:
            parts.append(
                f"open {_fmt(row['open'])} outside [low {_fmt(row['low'])}, "
                f"high {_fmt(row['high'])}]"
            )
        elif reason == R.CLOSE_OUTSIDE_RANGE:
            parts.append(
                f"close {_fmt(row['close'])} outside [low {_fmt(row['low'])}, "
                f"high {_fmt(row['high'])}]"
            )
        elif reason == R.NEGATIVE_VOLUME:
            parts.append(f"volume {_fmt(row['volume'])} is negative or missing")
        elif reason == R.ABSURD_VOLUME:
            parts.append(
                f"volume {_fmt(row['volume'])} is implausible (> {MAX_DAILY_VOLUME:g} shares)"
            )
        elif reason == R.NOT_TRADING_DAY:
            parts.append(f"{pd.Timestamp(row['date']).date()} is not an NYSE trading day")
    return "; ".join(parts)


def _sorted_with_keys(df: pd.DataFrame) -> tuple[pd.DataFrame, Ints, Ints]:
    """``df`` sorted by (symbol, date) with integer symbol codes and day numbers, so duplicate
    and neighbour checks are comparisons of adjacent array elements (no hashing of strings)."""
    codes, _ = pd.factorize(df["symbol"], sort=True)
    day = df["date"].to_numpy(dtype="datetime64[D]").astype("int64")  # NaT -> int64 min
    order = np.lexsort((day, codes))
    return df.iloc[order].reset_index(drop=True), codes[order], day[order]


def _split_duplicates(
    df: pd.DataFrame, codes: Ints, day: Ints
) -> tuple[pd.DataFrame, pd.DataFrame, int, Ints]:
    """(unique bars, conflicting copies, number of identical copies collapsed, codes of the
    unique bars). ``df`` is sorted by (symbol, date)."""
    same_key = np.zeros(len(df), dtype=bool)
    same_key[1:] = (codes[1:] == codes[:-1]) & (day[1:] == day[:-1])
    if not same_key.any():
        return df, df.iloc[:0], 0, codes
    # Only reached when some (symbol, date) repeats, which is rare: hashing whole rows is fine.
    identical = df.duplicated(["symbol", "date", *PRICE_COLUMNS], keep="first").to_numpy()
    keep = ~identical
    df, codes, day = df[keep].reset_index(drop=True), codes[keep], day[keep]
    same_key = np.zeros(len(df), dtype=bool)
    same_key[1:] = (codes[1:] == codes[:-1]) & (day[1:] == day[:-1])
    conflict = same_key.copy()
    conflict[:-1] |= same_key[1:]
    return df[~conflict], df[conflict], int(identical.sum()), codes[~conflict]


def validate(
    df: pd.DataFrame, previous: PreviousBars | None = None, known: Collection[str] | None = None
) -> ValidationResult:
    """Validate a bar frame. ``previous``: ticker -> what precedes the first bar of that ticker
    in ``df`` (a stored close, or a ``storage.Previous`` that may include a held jump), for the
    jump rule across batch boundaries. ``known``: the tickers bars may be for (None: any)."""
    if "exchange" not in df:
        df = df.assign(exchange="")
    df, codes, day = _sorted_with_keys(df)
    df, conflicts, n_identical, codes = _split_duplicates(df, codes, day)
    rejected_parts = []
    if len(conflicts):
        conf = conflicts.copy()
        conf["reason"] = R.CONFLICTING_DUPLICATE.value
        counts = conf.groupby(["symbol", "date"])["close"].transform("size")
        conf["detail"] = [
            f"{n} different bars for {s} on {pd.Timestamp(d).date()}; this one has "
            f"o={_fmt(o)} h={_fmt(h)} l={_fmt(lo)} c={_fmt(c)} v={_fmt(v)}"
            for n, s, d, o, h, lo, c, v in zip(
                counts,
                conf["symbol"],
                conf["date"],
                conf["open"],
                conf["high"],
                conf["low"],
                conf["close"],
                conf["volume"],
                strict=True,
            )
        ]
        rejected_parts.append(conf)

    masks = _row_masks(df, known)
    any_bad = np.zeros(len(df), dtype=bool)
    for m in masks.values():
        any_bad |= m
    if any_bad.any():
        bad = df[any_bad].copy()
        idx = np.flatnonzero(any_bad)
        reasons, details = [], []
        for pos, (_, row) in zip(idx, bad.iterrows(), strict=True):
            broken = [str(rule.value) for rule in _ROW_RULES if masks[rule][pos]]
            reasons.append(broken[0])
            details.append(_row_detail(row, broken))
        bad["reason"] = reasons
        bad["detail"] = details
        rejected_parts.append(bad)
    good = df[~any_bad]

    good, jumps = _jump_check(good, codes[~any_bad], previous or {})
    if len(jumps):
        rejected_parts.append(jumps)

    rejected = (
        pd.concat(rejected_parts, ignore_index=True)
        if rejected_parts
        else df.iloc[:0].assign(reason=pd.Series([], dtype=object), detail="")
    )
    return ValidationResult(good.reset_index(drop=True), rejected, n_identical)


def _prev(value: float | Previous | None, which: int) -> float:
    """``previous`` values are floats (a stored close) or ``storage.Previous``."""
    if value is None:
        return np.nan
    if isinstance(value, int | float):
        return float(value) if which == 0 else np.nan
    x = value.close if which == 0 else value.held_close
    return np.nan if x is None else float(x)


def _jump_check(
    df: pd.DataFrame, codes: Ints, previous: PreviousBars
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``df`` is sorted by (symbol, date) and ``codes`` are its symbol codes."""
    if df.empty:
        return df, df.assign(reason="", detail="").iloc[:0]
    close: Floats = df["close"].to_numpy(dtype="float64")
    n = len(df)
    first = np.ones(n, dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    prev = _previous_close(df, close, first, previous)
    nxt = np.empty(n)
    nxt[-1] = np.nan
    nxt[:-1] = close[1:]
    nxt[last] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(close / prev)
        back = np.log(nxt / prev)
    big = np.abs(r) > math.log(JUMP_RATIO)  # NaN (no previous bar) compares False
    reverted = big & ~np.isnan(nxt) & (np.abs(back) < math.log(REVERT_TOLERANCE))
    unconfirmed = big & np.isnan(nxt)
    flagged = reverted | unconfirmed
    if not flagged.any():
        return df, df.iloc[:0].assign(reason="", detail="")
    out = df[flagged].copy()
    out["reason"] = np.where(
        reverted[flagged], R.JUMP_REVERTED.value, R.JUMP_UNCONFIRMED.value
    ).astype(object)
    out["detail"] = _jump_details(prev[flagged], close[flagged], nxt[flagged], reverted[flagged])
    return df[~flagged], out


def _previous_close(df: pd.DataFrame, close: Floats, first: Mask, previous: PreviousBars) -> Floats:
    """The close each bar is compared with: the bar before it in the batch, or for the first bar
    of a ticker what ``previous`` says (NaN when nothing precedes it)."""
    prev = np.empty(len(close))
    prev[0] = np.nan
    prev[1:] = close[:-1]
    prev[first] = np.nan
    if previous:
        # The first bar of a ticker compares with the stored close, or with a held
        # (jump_unconfirmed) bar when it is closer to that one: a held jump followed by a bar at
        # the same level is a confirmed move, not a second jump.
        found = [previous.get(t) for t in df["symbol"].to_numpy(dtype=object)[first]]
        stored = np.array([_prev(v, 0) for v in found], dtype="float64")
        held = np.array([_prev(v, 1) for v in found], dtype="float64")
        c0 = close[first]
        with np.errstate(invalid="ignore", divide="ignore"):
            use_held = ~np.isnan(held) & (
                np.isnan(stored) | (np.abs(np.log(c0 / held)) < np.abs(np.log(c0 / stored)))
            )
        prev[first] = np.where(use_held, held, stored)
    return prev


def _jump_details(prev: Floats, close: Floats, nxt: Floats, reverted: Mask) -> list[str]:
    details = []
    for p, c, nx, rev in zip(prev, close, nxt, reverted, strict=True):
        ratio = c / p
        if rev:
            details.append(
                f"close {_fmt(c)} is x{ratio:.3g} the previous close {_fmt(p)} and the next close "
                f"{_fmt(nx)} returns to x{nx / p:.3g} of it: a bad tick (threshold x{JUMP_RATIO:g},"
                f" reversal within {REVERT_TOLERANCE - 1:.0%})"
            )
        else:
            details.append(
                f"close {_fmt(c)} is x{ratio:.3g} the previous close {_fmt(p)} (threshold "
                f"x{JUMP_RATIO:g}); held until the next bar confirms or reverts it"
            )
    return details
