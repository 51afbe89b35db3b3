"""``Panel``: daily OHLCV of many symbols as (symbols x trading days) float64 arrays.

The date axis is the set of trading days present in the source (every date that has at least
one bar in the file / table, before filtering by symbol), so a symbol's missing day is a NaN
hole, not a shifted column. Building it never loops over symbols: the long table is factorised
into (symbol, date) integer codes and scattered into preallocated arrays.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

FIELDS = ("open", "high", "low", "close", "volume")
Day = dt.date | str | np.datetime64
DateLike = Day | None
Floats = NDArray[np.float64]


def _day(value: DateLike) -> np.datetime64[dt.date] | None:
    return None if value is None else _day_of(value)


def _day_of(value: Day) -> np.datetime64[dt.date]:
    if isinstance(value, np.datetime64):
        day: np.datetime64[dt.date] = value.astype("datetime64[D]")
        return day
    if isinstance(value, dt.datetime):
        value = value.date()
    return np.datetime64(value, "D")


def _copy_frame(cur: CursorWrapper, sql: str, params: list[object]) -> pd.DataFrame:
    """Run a SELECT through ``COPY ... TO STDOUT`` (CSV) and parse it with pandas' C reader:
    ~5x faster than fetching millions of row tuples through the DB-API."""
    from psycopg import sql as pgsql

    raw = cur.cursor  # the psycopg cursor under Django's wrapper
    query = pgsql.SQL(sql.replace("%s", "{}")).format(*(pgsql.Literal(p) for p in params))
    buf = io.BytesIO()
    with raw.copy(pgsql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as copy:
        for chunk in copy:
            buf.write(chunk)
    buf.seek(0)
    if buf.getbuffer().nbytes == 0:
        return pd.DataFrame(columns=["symbol", "date", *FIELDS])
    return pd.read_csv(
        buf,
        header=None,
        names=["symbol", "date", *FIELDS],
        dtype={"symbol": "str", "date": "str", **dict.fromkeys(FIELDS, "float64")},
        keep_default_na=False,
        na_values=[""],
    )


@dataclass
class Panel:
    tickers: NDArray[np.str_]  # (S,) str
    dates: NDArray[np.datetime64]  # (D,) datetime64[D], ascending trading days
    open: Floats  # (S, D) float64, NaN = no bar
    high: Floats
    low: Floats
    close: Floats
    volume: Floats
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.tickers = np.asarray(self.tickers, dtype=object).astype(str)
        self.dates = np.asarray(self.dates).astype("datetime64[D]")
        shape = (len(self.tickers), len(self.dates))
        for name in FIELDS:
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            setattr(self, name, arr)
        if len(self.dates) > 1 and not np.all(np.diff(self.dates) > np.timedelta64(0, "D")):
            raise ValueError("Panel dates must be strictly ascending")
        self._index = {t: i for i, t in enumerate(self.tickers)}

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.tickers), len(self.dates)

    def row(self, ticker: str) -> int:
        return self._index[ticker]

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        all_dates: NDArray[np.datetime64] | None = None,
        tickers: Iterable[str] | None = None,
    ) -> Panel:
        """From a long frame with columns symbol, date (datetime64 or ISO str), open .. volume.

        ``all_dates`` fixes the date axis (default: the dates present); ``tickers`` fixes the
        symbol axis and its order (symbols without rows get all-NaN rows).
        """
        dates = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
        if all_dates is None:
            all_dates = np.unique(dates)
        all_dates = np.asarray(all_dates).astype("datetime64[D]")
        if tickers is None:
            sym_codes, uniques = pd.factorize(frame["symbol"], sort=True)
            names = np.asarray(uniques, dtype=object).astype(str)
        else:
            names = np.asarray(list(tickers), dtype=object).astype(str)
            sym_codes = pd.Index(names).get_indexer(frame["symbol"])
        date_codes = np.searchsorted(all_dates, dates)
        date_codes = np.minimum(date_codes, max(len(all_dates) - 1, 0))
        keep = (sym_codes >= 0) & (len(all_dates) > 0)
        if len(all_dates):
            keep &= all_dates[date_codes] == dates
        sc, dc = sym_codes[keep], date_codes[keep]
        arrays = {}
        for name in FIELDS:
            arr = np.full((len(names), len(all_dates)), np.nan)
            arr[sc, dc] = frame[name].to_numpy(dtype=np.float64)[keep]
            arrays[name] = arr
        return cls(tickers=names, dates=all_dates, **arrays)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        symbols: Iterable[str] | None = None,
        start: DateLike = None,
        end: DateLike = None,
    ) -> Panel:
        """From a shared price CSV (``symbol,exchange,date,open,high,low,close,volume``, gzip ok).

        The date axis is every date of the file within [start, end], so filtering by symbol
        never drops a trading day.
        """
        frame = pd.read_csv(
            path,
            usecols=["symbol", "date", *FIELDS],
            dtype={"symbol": "str", "date": "str", **dict.fromkeys(FIELDS, "float64")},
            engine="c",
        )
        date_codes, date_uniques = pd.factorize(frame["date"], sort=True)
        all_dates = np.asarray(date_uniques, dtype="datetime64[D]")
        lo, hi = _day(start), _day(end)
        keep_dates = np.ones(len(all_dates), dtype=bool)
        if lo is not None:
            keep_dates &= all_dates >= lo
        if hi is not None:
            keep_dates &= all_dates <= hi
        keep = keep_dates[date_codes]
        wanted = None
        if symbols is not None:
            wanted = sorted({s.upper() for s in symbols})
            keep &= frame["symbol"].isin(wanted).to_numpy()
        frame = frame.loc[keep]
        # Reuse the date codes rather than re-parsing 3 M date strings.
        kept_dates = all_dates[keep_dates]
        remap = np.cumsum(keep_dates) - 1
        dcodes = remap[date_codes[keep]]
        if wanted is None:
            scodes, uniques = pd.factorize(frame["symbol"], sort=True)
            names = np.asarray(uniques, dtype=object).astype(str)
        else:
            names = np.asarray(wanted, dtype=object).astype(str)
            scodes = pd.Index(names).get_indexer(frame["symbol"])
        arrays = {}
        for name in FIELDS:
            arr = np.full((len(names), len(kept_dates)), np.nan)
            arr[scodes, dcodes] = frame[name].to_numpy(dtype=np.float64)
            arrays[name] = arr
        return cls(tickers=names, dates=kept_dates, **arrays)

    @classmethod
    def from_db(
        cls,
        tickers: Iterable[str] | None = None,
        start: DateLike = None,
        end: DateLike = None,
    ) -> Panel:
        """From ``PriceBar`` (interval 1d) of equity symbols; the date axis is every date with a
        daily bar of any equity in [start, end]."""
        from django.db import connection

        where = ["b.interval = '1d'", "s.asset_type = 'equity'"]
        params: list[dt.datetime] = []
        if start is not None:
            where.append("b.timestamp >= %s")
            params.append(dt.datetime.combine(_day_of(start).item(), dt.time(), dt.UTC))
        if end is not None:
            where.append("b.timestamp < %s")
            params.append(
                dt.datetime.combine(_day_of(end).item() + dt.timedelta(days=1), dt.time(), dt.UTC)
            )
        sql_dates = (
            "SELECT DISTINCT (b.timestamp AT TIME ZONE 'UTC')::date FROM ingestion_pricebar b "
            "JOIN ingestion_symbol s ON s.id = b.symbol_id WHERE " + " AND ".join(where)
        )
        wanted = None
        if tickers is not None:
            wanted = sorted({t.upper() for t in tickers})
        sql = (
            "SELECT s.ticker, (b.timestamp AT TIME ZONE 'UTC')::date, b.open, b.high, b.low, "
            "b.close, b.volume FROM ingestion_pricebar b JOIN ingestion_symbol s "
            "ON s.id = b.symbol_id WHERE " + " AND ".join(where)
        )
        bar_params: list[object] = list(params)
        if wanted is not None:
            sql += " AND s.ticker = ANY(%s)"
            bar_params.append(wanted)
        with connection.cursor() as cur:
            cur.execute(sql_dates, params)
            all_dates = np.sort(np.array([r[0] for r in cur.fetchall()], dtype="datetime64[D]"))
            frame = _copy_frame(cur, sql, bar_params)
        if frame.empty:
            names = np.asarray(wanted or [], dtype=object).astype(str)
            empty = np.full((len(names), len(all_dates)), np.nan)
            return cls(names, all_dates, *(empty.copy() for _ in FIELDS))
        return cls.from_frame(frame, all_dates=all_dates, tickers=wanted)

    # -- slicing ---------------------------------------------------------------------------

    def select(self, tickers: Iterable[str]) -> Panel:
        """Rows for ``tickers`` in that order (unknown tickers get all-NaN rows)."""
        names = [t.upper() for t in tickers]
        idx = np.array([self._index.get(t, -1) for t in names], dtype=np.int64)
        arrays = {}
        for name in FIELDS:
            src = getattr(self, name)
            arr = np.full((len(names), len(self.dates)), np.nan)
            ok = idx >= 0
            arr[ok] = src[idx[ok]]
            arrays[name] = arr
        return Panel(tickers=np.asarray(names), dates=self.dates.copy(), **arrays)

    def until(self, end: Day) -> Panel:
        """The panel truncated to dates <= end (a view of the arrays)."""
        hi = int(np.searchsorted(self.dates, _day_of(end), side="right"))
        return Panel(
            tickers=self.tickers,
            dates=self.dates[:hi],
            **{name: getattr(self, name)[:, :hi] for name in FIELDS},
        )
