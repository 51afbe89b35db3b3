"""The symbol universe and its descriptive fields, from the shared reference files.

Universe: every ticker of the two price files, every S&P 500 member of the reference lists
(current, 2016, historical snapshots) and the index ``^GSPC``. The NASDAQ/NYSE listing file only
describes tickers of that universe (it also lists warrants and preferreds without prices).

Precedence per field (first non-empty wins):
- name: current S&P list, 2016 list, listing file, latest snapshot;
- sector / industry: GICS sector / sub-industry of the current list, then 2016, then snapshot
  sector, then the listing file's sector / industry; a sector is stored as one of the 11 GICS
  sectors (``core.enums.gics_sector``: older and NASDAQ names mapped, other labels skipped);
- CIK: current list, then 2016 (zero-padded to SEC's 10 digits);
- exchange: the price files (what the bars were traded on), then the listing file.
Tickers are Yahoo-style: ``BRK.B`` becomes ``BRK-B`` as in the price files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.enums import gics_sector
from ingestion.frames import INDEX_TICKER
from ingestion.reference.earnings import normalise_ticker

PRICE_FILES = (
    "prices/sp500_members_daily_2005_2025.csv.gz",
    "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz",
)
TICKER_RE = r"\^?[A-Z0-9][A-Z0-9\-]{0,9}"
FIELDS = ("name", "exchange", "sector", "industry", "cik", "asset_type")


def _cik(value: str | float) -> str:
    if pd.isna(value) or str(value).strip() == "":
        return ""
    return str(int(float(value))).zfill(10)


def _clean(value: object) -> str:
    return "" if pd.isna(value) else str(value).strip()


@lru_cache(maxsize=4)
def _price_file_exchanges(path: str) -> tuple[tuple[str, str], ...]:
    """(symbol, exchange of its latest bar) of a price file; the files never change, so one
    read per process is enough (the read is most of this loader's time)."""
    px = pd.read_csv(path, usecols=["symbol", "exchange"], dtype=str)
    px = px.drop_duplicates("symbol", keep="last")
    return tuple(zip(px["symbol"], px["exchange"], strict=True))


class _Table:
    """ticker -> fields, filled source by source: the first non-empty value of a field wins."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, str]] = {}

    def put(self, ticker: str, **fields: object) -> None:
        row = self.rows.setdefault(ticker, dict.fromkeys(FIELDS, "") | {"asset_type": "equity"})
        for key, raw in fields.items():
            value = _clean(raw)
            if key == "sector":  # a label that names no GICS sector leaves it to the next source
                value = gics_sector(value)
            if value and not row[key]:
                row[key] = value[: {"name": 200, "exchange": 16, "sector": 100}.get(key, 150)]


def symbol_table(
    data_dir: Path, price_files: tuple[str, ...] = PRICE_FILES
) -> dict[str, dict[str, str]]:
    """ticker -> {name, exchange, sector, industry, cik, asset_type}."""
    table = _Table()
    for rel in price_files:
        for t, ex in _price_file_exchanges(str(data_dir / rel)):
            table.put(normalise_ticker(t), exchange=ex)
    _put_sp500_lists(table, data_dir)
    _put_snapshots_and_listing(table, data_dir)
    table.rows[INDEX_TICKER] = {
        "name": "S&P 500",
        "exchange": "INDEX",
        "sector": "",
        "industry": "",
        "cik": "",
        "asset_type": "index",
    }
    return table.rows


def _put_sp500_lists(table: _Table, data_dir: Path) -> None:
    """The current S&P 500 list, then the 2016 one."""
    put = table.put
    cur = pd.read_csv(data_dir / "reference/sp500_constituents_2026-08-08.csv", dtype=str)
    for r in cur.itertuples(index=False):
        put(
            normalise_ticker(r.Symbol),
            name=r.Security,
            sector=r[2],
            industry=r[3],
            cik=_cik(r.CIK),
        )
    old = pd.read_csv(data_dir / "fundamentals/securities_sp500_2016.csv", dtype=str)
    for r in old.itertuples(index=False):
        put(normalise_ticker(r[0]), name=r.Security, sector=r[3], industry=r[4], cik=_cik(r.CIK))


def _put_snapshots_and_listing(table: _Table, data_dir: Path) -> None:
    """Listing-file names, then the latest snapshot's name and sector, then the listing file's
    exchange, sector and industry, for the tickers already in the table."""
    put, out = table.put, table.rows
    snaps = pd.read_csv(
        data_dir / "reference/sp500_constituents_snapshots_2012_2026.csv", dtype=str
    )
    # Real dirt: a few snapshot rows carry a company name or a note in the symbol column
    # ("American Airlines Group", "RVTY (previously PKI)"); they are not tickers.
    snaps["symbol"] = snaps["symbol"].map(normalise_ticker)
    snaps = snaps[snaps["symbol"].str.fullmatch(TICKER_RE)]
    snaps = snaps.sort_values("snapshot_date").drop_duplicates("symbol", keep="last")
    listing = pd.read_csv(data_dir / "reference/us_listed_tickers_2025-07-09.csv", dtype=str)
    listing["symbol"] = listing["symbol"].map(normalise_ticker)
    listing = listing.drop_duplicates("symbol").set_index("symbol")
    for t in list(out):
        if t in listing.index:
            row = listing.loc[t]
            put(t, name=row["name"])
    for r in snaps.itertuples(index=False):
        put(r.symbol, name=r.name, sector=r.sector)
    for t in list(out):
        if t in listing.index:
            row = listing.loc[t]
            put(t, exchange=row["exchange"], sector=row["sector"], industry=row["industry"])
