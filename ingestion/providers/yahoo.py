"""``yfinance``: the production path, Yahoo Finance's chart API through the yfinance library.

- Batching: tickers are fetched ``YFINANCE_BATCH_SIZE`` at a time with one ``yf.download`` call
  each (yfinance then issues one chart request per ticker on one shared session/cookie).
- Backoff: ``yf.download`` never raises for a ticker; it logs the failure and returns an empty
  column. Tickers that came back empty for a retryable reason (HTTP 429 rate limit, timeouts,
  connection errors, 5xx) are downloaded again after ``YFINANCE_BACKOFF_SECONDS * 2**attempt``,
  up to ``YFINANCE_MAX_RETRIES`` times; the ones still missing are listed in ``report()``
  (never silently dropped). "No data"/delisted answers are not retried.
- Cache of unchanged history: every ticker's daily history is kept under ``YFINANCE_CACHE_DIR``.
  Bars older than ``YFINANCE_REFRESH_DAYS`` before the newest cached bar are final and never
  downloaded again; a request only asks Yahoo for the recent tail (Yahoo revises the last few
  days: late prints, corrections). A request wholly inside the final part makes no HTTP call.
- Prices are adjusted (``auto_adjust=True``) like the shared data. ``session`` is any session
  yfinance accepts (curl_cffi by default); tests pass one that reaches a local server.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings

from ingestion.frames import empty_frame, normalise
from ingestion.providers.base import BarQuery, Provider

log = logging.getLogger(__name__)

_RETRYABLE = re.compile(
    r"RateLimit|Too Many Requests|429|Timeout|timed out|Connection|Temporary|50[0234]", re.I
)
_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}


class _ErrorCollector(logging.Handler):
    """yfinance reports per-ticker failures only through its logger; collect them."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class HistoryCache:
    """Daily history per ticker as a small CSV file (``<dir>/1d/<TICKER>.csv.gz``) plus the
    first date it was requested from (``.from``), so a range that starts on a weekend or a
    holiday still counts as covered."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory) / "1d"

    def _path(self, ticker: str, suffix: str = ".csv.gz") -> Path:
        return self.dir / f"{ticker.replace('^', '_')}{suffix}"

    def load(self, ticker: str) -> tuple[pd.DataFrame, dt.date] | None:
        path, since = self._path(ticker), self._path(ticker, ".from")
        if not path.exists() or not since.exists():
            return None
        frame = pd.read_csv(path, parse_dates=["date"]).set_index("date")
        return frame, dt.date.fromisoformat(since.read_text().strip())

    def save(self, ticker: str, frame: pd.DataFrame, covered_from: dt.date) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        frame.sort_index().rename_axis("date").to_csv(self._path(ticker))
        self._path(ticker, ".from").write_text(covered_from.isoformat())


class YFinanceProvider(Provider):
    name = "yfinance"

    def __init__(
        self,
        session: Any = None,
        *,
        batch_size: int | None = None,
        max_retries: int | None = None,
        backoff_seconds: float | None = None,
        refresh_days: int | None = None,
        cache_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        threads: bool = False,
        timeout: int = 30,
    ) -> None:
        self.session = session
        self.batch_size = batch_size or settings.YFINANCE_BATCH_SIZE
        self.max_retries = settings.YFINANCE_MAX_RETRIES if max_retries is None else max_retries
        self.backoff = (
            settings.YFINANCE_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        )
        self.refresh_days = settings.YFINANCE_REFRESH_DAYS if refresh_days is None else refresh_days
        self.cache = HistoryCache(cache_dir or settings.YFINANCE_CACHE_DIR)
        self.sleep = sleep
        self.threads = threads
        self.timeout = timeout
        self.stats: dict[str, Any] = {}
        import yfinance as yf

        # yfinance keeps a small SQLite cache of exchange time zones; keep it under var/.
        tz_dir = Path(self.cache.dir).parent / "tz"
        tz_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(tz_dir))

    # -- query -> extract ------------------------------------------------------------------
    def _symbols(self, query: BarQuery) -> list[str]:
        if query.symbols:
            return [s.upper() for s in query.symbols]
        from ingestion.models import Symbol

        return list(Symbol.objects.filter(active=True).values_list("ticker", flat=True))

    def extract(self, query: BarQuery) -> dict[str, pd.DataFrame]:
        if query.interval != "1d":
            raise ValueError("The yfinance provider ingests daily bars (interval 1d)")
        end = query.end or dt.datetime.now(dt.UTC).date()
        start = query.start or end - dt.timedelta(days=365)
        self.stats = {
            "downloads": 0,
            "retries": 0,
            "cache_hits": 0,
            "tickers_requested": 0,
            "failed": {},
            "backoff_s": [],
        }
        plans: dict[dt.date, list[str]] = {}
        cached: dict[str, pd.DataFrame] = {}
        covered: dict[str, dt.date] = {}
        for ticker in self._symbols(query):
            hit = self.cache.load(ticker)
            fetch_from = start
            covered[ticker] = start
            if hit is not None and len(hit[0]) and hit[1] <= start:
                frame, covered[ticker] = hit
                cached[ticker] = frame
                # Bars older than refresh_days before the newest cached one are final.
                fetch_from = max(start, frame.index.max().date() - dt.timedelta(self.refresh_days))
                if fetch_from > end:
                    self.stats["cache_hits"] += 1
                    continue
            plans.setdefault(fetch_from, []).append(ticker)

        fresh: dict[str, pd.DataFrame] = {}
        for fetch_from, tickers in sorted(plans.items()):
            for i in range(0, len(tickers), self.batch_size):
                fresh.update(
                    self._download_with_backoff(tickers[i : i + self.batch_size], fetch_from, end)
                )
        out: dict[str, pd.DataFrame] = {}
        for ticker in set(cached) | set(fresh):
            parts = [f for f in (cached.get(ticker), fresh.get(ticker)) if f is not None]
            merged = pd.concat(parts)
            merged = merged[~merged.index.duplicated(keep="last")].sort_index()
            if ticker in fresh:
                self.cache.save(ticker, merged, covered[ticker])
            out[ticker] = merged
        return {"start": start, "end": end, "frames": out}

    def _download_with_backoff(
        self, tickers: list[str], start: dt.date, end: dt.date
    ) -> dict[str, pd.DataFrame]:
        got: dict[str, pd.DataFrame] = {}
        pending = list(tickers)
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                self.stats["retries"] += 1
                self.stats["backoff_s"].append(delay)
                log.warning("yfinance: retrying %d tickers in %.1f s", len(pending), delay)
                self.sleep(delay)
            frames, errors = self._download(pending, start, end)
            got.update(frames)
            missing = [t for t in pending if t not in frames]
            retry = []
            for t in missing:
                msg = next((m for m in errors if f"'{t}'" in m), "")
                if msg and not _RETRYABLE.search(msg):
                    self.stats["failed"][t] = msg[-200:]  # no data / delisted: final
                else:
                    retry.append(t)
            pending = retry
            if not pending:
                break
        for t in pending:
            self.stats["failed"][t] = "still failing after retries"
        return got

    def _download(
        self, tickers: list[str], start: dt.date, end: dt.date
    ) -> tuple[dict[str, pd.DataFrame], list[str]]:
        import yfinance as yf

        self.stats["downloads"] += 1
        self.stats["tickers_requested"] += len(tickers)
        collector = _ErrorCollector()
        yf_log = logging.getLogger("yfinance")
        yf_log.addHandler(collector)
        try:
            data = yf.download(
                tickers,
                start=start.isoformat(),
                end=(end + dt.timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
                interval="1d",
                group_by="ticker",
                auto_adjust=True,
                actions=False,
                threads=self.threads,
                progress=False,
                session=self.session,
                timeout=self.timeout,
                multi_level_index=True,
            )
        finally:
            yf_log.removeHandler(collector)
        frames: dict[str, pd.DataFrame] = {}
        if data is not None and len(data.columns):
            for ticker in data.columns.get_level_values(0).unique():
                sub = data[ticker].rename(columns=_COLUMNS)[list(_COLUMNS.values())]
                # Rows that are NaN in every field are yfinance's alignment of tickers to one
                # index, not bars; a partly missing bar is kept for validation to reject.
                sub = sub.dropna(how="all")
                if len(sub):
                    idx = pd.DatetimeIndex(sub.index)
                    if idx.tz is not None:  # daily bars: the exchange-local session date
                        idx = idx.tz_convert("America/New_York").tz_localize(None)
                    sub.index = idx.normalize()
                    frames[str(ticker)] = sub
        return frames, collector.messages

    # -- extract -> transform --------------------------------------------------------------
    def transform(self, query: BarQuery, raw: dict[str, Any]) -> pd.DataFrame:
        start, end = pd.Timestamp(raw["start"]), pd.Timestamp(raw["end"])
        parts = []
        for ticker, frame in raw["frames"].items():
            f = frame[(frame.index >= start) & (frame.index <= end)]
            if len(f):
                parts.append(f.reset_index(names="date").assign(symbol=ticker, exchange=""))
        if not parts:
            return empty_frame()
        return normalise(pd.concat(parts, ignore_index=True))

    def report(self) -> dict[str, Any]:
        return dict(self.stats)
