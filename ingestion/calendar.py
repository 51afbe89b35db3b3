"""NYSE trading calendar (exchange_calendars "XNYS"), the one source of "is this a trading day".

The calendar is built once per process for 1990-01-01 .. 2030-12-31: it matches every date of the
shared S&P 500 index files since 1990 exactly (no missing and no extra sessions), while the
package's pre-1990 history disagrees with the real 1928 holidays. Dates outside that window raise
``ValueError`` rather than guessing.

Scalar helpers take and return ``datetime.date``; the array helpers (``sessions``,
``is_trading_day_array``) serve vectorised validation of millions of bars.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

CALENDAR_NAME = "XNYS"
FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(2030, 12, 31)


@lru_cache(maxsize=1)
def sessions() -> NDArray[np.datetime64]:
    """All NYSE trading days in the calendar window, ascending, as ``datetime64[D]``."""
    import exchange_calendars as xc

    cal = xc.get_calendar(CALENDAR_NAME, start=FIRST_DAY.isoformat(), end=LAST_DAY.isoformat())
    days = cal.sessions
    if days.tz is not None:
        days = days.tz_localize(None)
    out: NDArray[np.datetime64] = days.values.astype("datetime64[D]")
    out.flags.writeable = False
    return out


def _check(d: dt.date) -> np.datetime64:
    if isinstance(d, dt.datetime):
        d = d.date()
    if not (FIRST_DAY <= d <= LAST_DAY):
        raise ValueError(f"{d} is outside the trading calendar window {FIRST_DAY}..{LAST_DAY}")
    return np.datetime64(d, "D")


def _to_date(value: np.datetime64) -> dt.date:
    day: dt.date = value.astype("datetime64[D]").item()
    return day


def is_trading_day(d: dt.date) -> bool:
    day = _check(d)
    days = sessions()
    i = np.searchsorted(days, day)
    return bool(i < len(days) and days[i] == day)


def next_trading_day(d: dt.date) -> dt.date:
    """The first trading day strictly after ``d`` (``d`` itself need not be a trading day)."""
    days = sessions()
    i = np.searchsorted(days, _check(d), side="right")
    if i >= len(days):
        raise ValueError(f"No trading day after {d} in the calendar window")
    return _to_date(days[i])


def previous_trading_day(d: dt.date) -> dt.date:
    """The last trading day strictly before ``d``."""
    days = sessions()
    i = np.searchsorted(days, _check(d), side="left") - 1
    if i < 0:
        raise ValueError(f"No trading day before {d} in the calendar window")
    return _to_date(days[i])


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Trading days with ``start <= day <= end`` (both inclusive)."""
    days = sessions()
    lo = np.searchsorted(days, _check(start), side="left")
    hi = np.searchsorted(days, _check(end), side="right")
    return [_to_date(x) for x in days[lo:hi]]


def on_or_after(d: dt.date) -> dt.date:
    """``d`` when it is a trading day, else the next one (a release on a weekend/holiday is first
    traded on the next session)."""
    return d if is_trading_day(d) else next_trading_day(d)


def is_trading_day_array(dates: NDArray[np.datetime64]) -> NDArray[np.bool_]:
    """Vectorised ``is_trading_day`` for an array of ``datetime64``; dates outside the window are
    reported as not trading days (validation quarantines them instead of raising)."""
    days = sessions()
    d = np.asarray(dates).astype("datetime64[D]")
    i = np.searchsorted(days, d)
    inside = i < len(days)
    out = np.zeros(d.shape, dtype=bool)
    out[inside] = days[i[inside]] == d[inside]
    return out
