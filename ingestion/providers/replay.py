"""``replay``: real historical bars from the shared price files, as if they were arriving now.

Backfill mode (``fetch``) returns whole histories of a file (optionally filtered by symbols and
dates). Live mode (``day_bars``) returns one trading day's bars for every symbol of the file; the
replay clock in ``ingestion.live`` decides which day. A directory holding the two S&P 500 index
files is read as the ``^GSPC`` series.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from ingestion.calendar import FIRST_DAY
from ingestion.frames import read_index_csv, read_price_csv
from ingestion.providers.base import BarQuery, Provider


class ReplayProvider(Provider):
    name = "replay"

    def __init__(self, file: Path | str | None = None) -> None:
        self.file = Path(file) if file else Path(settings.REPLAY_PRICES_FILE)

    def extract(self, query: BarQuery) -> pd.DataFrame:
        path = Path(query.file) if query.file else self.file
        if path.is_dir():
            # The index files start in 1927; the trading calendar (and so validation) starts in
            # 1990, which is plenty for market return/volatility/beta of 2005+ features.
            return read_index_csv(path, start=query.start or FIRST_DAY, end=query.end)
        return read_price_csv(
            path, list(query.symbols) if query.symbols else None, query.start, query.end
        )

    def transform(self, query: BarQuery, raw: pd.DataFrame) -> pd.DataFrame:
        return raw  # the shared files are already in the bar-frame shape

    def days(self) -> np.ndarray:
        return _day_table(str(self.file))[1]

    def day_bars(self, day: np.datetime64) -> pd.DataFrame:
        frame, days, starts = _day_table(str(self.file))
        i = int(np.searchsorted(days, day))
        if i >= len(days) or days[i] != day:
            return frame.iloc[:0]
        return frame.iloc[starts[i] : starts[i + 1]].reset_index(drop=True)


@lru_cache(maxsize=2)
def _day_table(path: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The whole file sorted by date, its distinct days and where each day's rows start.

    Read once per process (a few seconds for the 2.86 M-row file); every later live cycle slices
    it in microseconds."""
    frame = read_price_csv(path)
    day = frame["date"].to_numpy(dtype="datetime64[D]")
    order = np.argsort(day, kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    day = day[order]
    days, starts = np.unique(day, return_index=True)
    return frame, days, np.append(starts, len(day))
