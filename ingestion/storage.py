"""Bulk, idempotent writes of bars and quarantined bars.

Accepted bars go through ``COPY`` into a temporary staging table, then one
``INSERT ... ON CONFLICT (symbol_id, interval, timestamp) DO UPDATE ... WHERE values differ``:
a bar already stored with the same values is not touched (no dead tuple, no new source), so a
re-run reports everything as ``unchanged``. ``RETURNING (xmax = 0)`` tells inserted rows from
updated ones; unchanged = staged - inserted - updated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from numpy.typing import NDArray

from core import pgcopy
from core.timescale import extension_installed
from ingestion.models import AssetType, Interval, QuarantinedBar, QuarantineReason

_SYMBOL_IDS: dict[str, int] = {}
# Batches at least this large skip the per-row deferred foreign-key checks (see store_bars).
BULK_ROWS = 100_000


@dataclass
class StoreCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: StoreCounts) -> StoreCounts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def ensure_symbols(
    tickers: NDArray[np.object_] | NDArray[np.str_] | list[str], frame: pd.DataFrame | None = None
) -> dict[str, int]:
    """ticker -> Symbol id, creating missing symbols (reference data fills names later).

    Ids are cached per process: symbols are never deleted while the platform runs, and the live
    cycle must not spend a query per cycle on 5,000 tickers it already knows."""
    unique = pd.unique(np.asarray(tickers, dtype=object))
    wanted = [t for t in unique if t not in _SYMBOL_IDS]
    if wanted:
        # Only new symbols need their exchange (from the frame's "exchange" column, if any).
        exchanges = _exchanges(frame) if frame is not None else {}
        ex = [exchanges.get(t, "") or "" for t in wanted]
        kinds = [
            AssetType.INDEX.value if t.startswith("^") else AssetType.EQUITY.value for t in wanted
        ]
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO ingestion_symbol
                    (ticker, name, exchange, sector, industry, cik, asset_type, active)
                SELECT t, '', e, '', '', '', k, true
                FROM unnest(%s::text[], %s::text[], %s::text[]) AS x(t, e, k)
                ON CONFLICT (ticker) DO UPDATE SET exchange = EXCLUDED.exchange
                    WHERE ingestion_symbol.exchange = '' AND EXCLUDED.exchange <> ''
                """,
                [wanted, ex, kinds],
            )
            cur.execute(
                "SELECT ticker, id FROM ingestion_symbol WHERE ticker = ANY(%s)", [list(wanted)]
            )
            found = dict(cur.fetchall())
        # Cache only what is committed: a rolled-back run must not leave ids of symbols that
        # no longer exist.
        transaction.on_commit(lambda: _SYMBOL_IDS.update(found))
    else:
        found = {}
    return {t: _SYMBOL_IDS.get(t) or found[t] for t in unique}


def known_symbols(tickers: NDArray[np.object_] | list[str]) -> set[str]:
    """The tickers of ``tickers`` that are in the symbols reference table (created nowhere)."""
    unique = pd.unique(np.asarray(tickers, dtype=object))
    wanted = [t for t in unique if t not in _SYMBOL_IDS]
    found: dict[str, int] = {}
    if wanted:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT ticker, id FROM ingestion_symbol WHERE ticker = ANY(%s)", [list(wanted)]
            )
            found = dict(cur.fetchall())
        transaction.on_commit(lambda: _SYMBOL_IDS.update(found))
    return {t for t in unique if t in _SYMBOL_IDS or t in found}


def id_array(symbols: NDArray[np.object_], sym_ids: dict[str, int]) -> NDArray[np.int64]:
    """Vectorised ``[sym_ids[s] for s in symbols]`` (one hash-index lookup, not a Python loop)."""
    keys = pd.Index(list(sym_ids))
    values = np.fromiter(sym_ids.values(), dtype="int64", count=len(sym_ids))
    pos = keys.get_indexer(symbols)
    if (pos < 0).any():
        raise KeyError("symbols without an id")
    ids: NDArray[np.int64] = values[pos]
    return ids


def forget_symbol_cache() -> None:
    """Tests and reference reloads call this when symbol rows may have been deleted."""
    _SYMBOL_IDS.clear()


_FLOAT_FIELDS = ("open", "high", "low", "close", "volume")
_STAGE_COLUMNS = [("symbol_id", "int8"), ("day", "date"), *((f, "float8") for f in _FLOAT_FIELDS)]


def _copy_binary(df: pd.DataFrame, ids: NDArray[np.int64]) -> bytes:
    """The rows in PostgreSQL's binary COPY format (``core.pgcopy``): every field is
    fixed-width (bigint, date, 5 x float8), so no per-row Python and no float formatting (text
    COPY through ``to_csv`` took ~20 s for 2.86 M rows; this takes well under one). Binary
    float8 is exact, so an unchanged bar compares equal and is not rewritten."""
    values = {f: df[f].to_numpy(dtype="float64") for f in _FLOAT_FIELDS}
    values["symbol_id"] = ids
    values["day"] = pgcopy.days(df["date"].to_numpy(dtype="datetime64[D]"))
    return pgcopy.binary_copy(_STAGE_COLUMNS, values)


def store_bars(
    df: pd.DataFrame, source: str, interval: str = Interval.DAY, chunk_rows: int = 1_000_000
) -> StoreCounts:
    """Upsert validated bars (a bar frame); returns how many were inserted/updated/unchanged."""
    counts = StoreCounts()
    if df.empty:
        return counts
    sym_ids = ensure_symbols(df["symbol"].to_numpy(dtype=object), df)
    ids = id_array(df["symbol"].to_numpy(dtype=object), sym_ids)
    with transaction.atomic(), connection.cursor() as cur:
        if len(df) >= BULK_ROWS:
            _skip_foreign_key_checks(cur)
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (symbol_id bigint, day date,"
            " open float8, high float8, low float8, close float8, volume float8)"
            " ON COMMIT DELETE ROWS"
        )
        for lo in range(0, len(df), chunk_rows):
            part = df.iloc[lo : lo + chunk_rows]
            payload = _copy_binary(part, ids[lo : lo + chunk_rows])
            with cur.cursor.copy(
                "COPY ingest_stage (symbol_id, day, open, high, low, close, volume)"
                " FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.write(payload)
            inserted, updated = _upsert_staged(cur, interval, source)
            if lo + chunk_rows < len(df):
                cur.execute("TRUNCATE ingest_stage")  # ON COMMIT DELETE ROWS clears the last
            counts += StoreCounts(inserted, updated, len(part) - inserted - updated)
    return counts


def _skip_foreign_key_checks(cur: CursorWrapper) -> None:
    """For a backfill, as a superuser on plain PostgreSQL: no per-row foreign-key checks."""
    if _is_superuser(cur) and not extension_installed(cur, "timescaledb"):
        # The symbol foreign key is DEFERRABLE INITIALLY DEFERRED: for a backfill PostgreSQL
        # queues one check per row and runs them at COMMIT (~20 s for 2.86 M rows, a third
        # of the load). Every symbol_id here was just returned by ensure_symbols from
        # ingestion_symbol, and symbols are never deleted during ingestion, so the checks
        # cannot fail; "replica" skips these triggers for this transaction only (SET LOCAL).
        # Not on TimescaleDB, whose own triggers must keep firing.
        cur.execute("SET LOCAL session_replication_role = replica")


def _upsert_staged(cur: CursorWrapper, interval: str, source: str) -> tuple[int, int]:
    """Move the staged rows into ingestion_pricebar; returns (inserted, updated)."""
    cur.execute(
        """
        WITH up AS (
            INSERT INTO ingestion_pricebar AS p
                (symbol_id, timestamp, interval, open, high, low, close, volume, source)
            SELECT symbol_id, day::timestamp AT TIME ZONE 'UTC', %s,
                   open, high, low, close, volume, %s
            FROM ingest_stage
            ON CONFLICT (symbol_id, interval, timestamp) DO UPDATE SET
                open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                close = EXCLUDED.close, volume = EXCLUDED.volume, source = EXCLUDED.source
            WHERE (p.open, p.high, p.low, p.close, p.volume)
                IS DISTINCT FROM
                  (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                   EXCLUDED.volume)
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
        FROM up
        """,
        [interval, source],
    )
    inserted, updated = cur.fetchone() or (0, 0)  # an aggregate always returns one row
    return int(inserted), int(updated)


def _is_superuser(cur: CursorWrapper) -> bool:
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    return bool(row and row[0])


def _exchanges(df: pd.DataFrame) -> dict[str, str]:
    if "exchange" not in df:
        return {}
    ex = df[["symbol", "exchange"]].drop_duplicates("symbol")
    return dict(zip(ex["symbol"], ex["exchange"], strict=True))


@dataclass(frozen=True)
class Previous:
    """What precedes a ticker's first bar of a batch: the latest stored close and, when newer,
    a bar still held as ``jump_unconfirmed`` (its close and quarantine id)."""

    close: float | None
    held_close: float | None = None
    held_id: int | None = None


def previous_closes(df: pd.DataFrame, interval: str = Interval.DAY) -> dict[str, Previous]:
    """For each ticker of ``df``: the bars just before its first date there (``Previous``)."""
    if df.empty:
        return {}
    first = df.groupby("symbol", sort=False)["date"].min()
    tickers = first.index.to_numpy(dtype=object)
    sym_ids = ensure_symbols(tickers, df)
    days = first.to_numpy(dtype="datetime64[D]").astype(str)
    with connection.cursor() as cur:
        stored = _stored_closes(cur, tickers, [sym_ids[t] for t in tickers], days, interval)
        held = _held_jumps(cur, tickers, days, interval)
    out: dict[str, Previous] = {}
    for ticker, (p_ts, p_close) in stored.items():
        h = held.get(ticker)
        if h is not None and (p_ts is None or h[0] > p_ts):
            out[ticker] = Previous(p_close, h[1], h[2])
        elif p_close is not None:
            out[ticker] = Previous(p_close)
    return out


# Where the latest bar before a batch is looked for first. On TimescaleDB a per-ticker lateral
# probe over the whole history re-opens every chunk of the hypertable on each of 5,000 rescans
# (~3.5 ms each over 84 chunks: 15 s per live cycle); a constant lower bound lets the planner
# exclude all but the last chunk or two. Tickers with no bar in the window (new listings, long
# gaps) are looked up again without the bound.
_RECENT_WINDOW_DAYS = 40

_STORED_CLOSES_SQL = """
SELECT u.ticker, p.day, p.close
FROM unnest(
    string_to_array(%(tickers)s, '|'),
    string_to_array(%(sids)s, ',')::bigint[],
    string_to_array(%(days)s, ',')::date[]
) AS u(ticker, sid, day)
LEFT JOIN LATERAL (
    -- the day as text: parsing 5,000 timestamptz values costs ~35 ms in Python
    SELECT (timestamp AT TIME ZONE 'UTC')::date::text AS day, close
    FROM ingestion_pricebar
    WHERE symbol_id = u.sid AND interval = %(interval)s
      AND timestamp < u.day::timestamp AT TIME ZONE 'UTC' {bound}
    ORDER BY timestamp DESC LIMIT 1
) p ON true
"""


def _stored_closes(
    cur: CursorWrapper,
    tickers: NDArray[np.object_],
    sym_ids: list[int],
    days: NDArray[np.str_],
    interval: str,
) -> dict[str, tuple[str | None, float | None]]:
    """ticker -> (ISO day, close) of its latest stored bar before ``days`` ((None, None): none)."""
    lowest = np.datetime64(min(days)) - np.timedelta64(_RECENT_WINDOW_DAYS, "D")
    found: dict[str, tuple[str | None, float | None]] = {}
    if len(set(days.tolist())) == 1:  # a live batch: every ticker's first bar is of one day
        found = _last_day_closes(cur, tickers, sym_ids, str(days[0]), interval, str(lowest))
    rest = [i for i, t in enumerate(tickers) if t not in found]
    if rest:
        found.update(
            _closes_query(
                cur, tickers[rest], [sym_ids[i] for i in rest], days[rest], interval, str(lowest)
            )
        )
    missing = [i for i, t in enumerate(tickers) if found.get(t, (None, None))[0] is None]
    if missing:
        found.update(
            _closes_query(
                cur, tickers[missing], [sym_ids[i] for i in missing], days[missing], interval
            )
        )
    return found


# The bars of the latest stored day before the batch's day: for every ticker that has one, that
# IS its latest bar before the batch (no stored day lies in between). One indexed read of a day
# instead of 5,000 per-ticker probes (~40 ms of every live cycle); the tickers without a bar
# that day (halted, new) take the probes.
_LAST_DAY_CLOSES_SQL = """
WITH last AS (
    SELECT max(timestamp) AS ts FROM ingestion_pricebar
    WHERE interval = %(interval)s
      AND timestamp < %(day)s::date::timestamp AT TIME ZONE 'UTC'
      AND timestamp >= %(since)s::date::timestamp AT TIME ZONE 'UTC'
)
SELECT b.symbol_id, (b.timestamp AT TIME ZONE 'UTC')::date::text, b.close
FROM ingestion_pricebar b JOIN last ON b.timestamp = last.ts
WHERE b.interval = %(interval)s AND b.symbol_id = ANY(string_to_array(%(sids)s, ',')::bigint[])
"""


def _last_day_closes(
    cur: CursorWrapper,
    tickers: NDArray[np.object_],
    sym_ids: list[int],
    day: str,
    interval: str,
    since: str,
) -> dict[str, tuple[str | None, float | None]]:
    """ticker -> (ISO day, close) for the tickers with a bar on the latest stored day before
    ``day`` (within ``since``)."""
    ticker_of = dict(zip(sym_ids, tickers.tolist(), strict=True))
    cur.execute(
        _LAST_DAY_CLOSES_SQL,
        {
            "interval": interval,
            "day": day,
            "since": since,
            "sids": ",".join(str(sid) for sid in sym_ids),
        },
    )
    return {ticker_of[sid]: (ts, close) for sid, ts, close in cur.fetchall()}


def _closes_query(
    cur: CursorWrapper,
    tickers: NDArray[np.object_],
    sym_ids: list[int],
    days: NDArray[np.str_],
    interval: str,
    since: str | None = None,
) -> dict[str, tuple[str | None, float | None]]:
    # Arrays travel as one comma-joined string each: psycopg adapts a 5,000-element Python list
    # element by element (~70 ms), a string in microseconds; the live cycle has a 200 ms budget.
    bound = "AND timestamp >= %(since)s::date::timestamp AT TIME ZONE 'UTC'" if since else ""
    cur.execute(
        _STORED_CLOSES_SQL.format(bound=bound),
        {
            "tickers": "|".join(tickers),
            "sids": ",".join(str(sid) for sid in sym_ids),
            "days": ",".join(days),
            "interval": interval,
            "since": since,
        },
    )
    return {t: (ts, c) for t, ts, c in cur.fetchall()}


def _held_jumps(
    cur: CursorWrapper, tickers: NDArray[np.object_], days: NDArray[np.str_], interval: str
) -> dict[str, tuple[str, float, int]]:
    """ticker -> (ISO day, close, quarantine id) of its latest bar held as ``jump_unconfirmed``
    before ``days``."""
    # Held jumps are few (pending jump_unconfirmed rows): one indexed query for all of them
    # instead of a probe per ticker.
    cur.execute(
        """
        SELECT ticker, (timestamp AT TIME ZONE 'UTC')::date::text, close, id
        FROM ingestion_quarantinedbar
        WHERE status = 'pending' AND reason = 'jump_unconfirmed' AND interval = %s
          AND ticker = ANY(string_to_array(%s, '|'))
        ORDER BY ticker, timestamp
        """,
        [interval, "|".join(tickers)],
    )
    held_rows = cur.fetchall()
    first_day = dict(zip(tickers, days, strict=True)) if held_rows else {}
    held: dict[str, tuple[str, float, int]] = {}
    for ticker, ts, close, qid in held_rows:
        if ts < first_day[ticker]:  # ISO date strings compare like dates
            held[ticker] = (ts, close, qid)  # ascending: the last one before the batch wins
    return held


def fingerprint(ticker: str, interval: str, day: str, values: list[float], reason: str) -> str:
    raw = "|".join([ticker, interval, day, reason, *[repr(float(v)) for v in values]])
    return hashlib.sha1(raw.encode()).hexdigest()


def quarantine_bars(
    rejected: pd.DataFrame, run_id: int | None, source: str, interval: str = Interval.DAY
) -> int:
    """Insert rejected bars (validation output) into the quarantine; returns how many are new
    (a bar already quarantined with the same values and reason is not inserted again)."""
    if rejected.empty:
        return 0
    # A bar of an unknown symbol is kept without creating the symbol: that is the point of
    # quarantining it.
    unknown = set(rejected.loc[rejected["reason"] == QuarantineReason.UNKNOWN_SYMBOL, "symbol"])
    known = ensure_symbols(
        [t for t in rejected["symbol"].unique() if isinstance(t, str) and t and t not in unknown],
        rejected,
    )
    rows = []
    for r in rejected.itertuples(index=False):
        ts = None if pd.isna(r.date) else pd.Timestamp(r.date).tz_localize("UTC")
        day = "NaT" if ts is None else ts.date().isoformat()
        vals = [r.open, r.high, r.low, r.close, r.volume]
        rows.append(
            QuarantinedBar(
                run_id=run_id,
                ticker=r.symbol,
                symbol_id=known.get(r.symbol),
                interval=interval,
                timestamp=ts,
                **{
                    k: (None if pd.isna(v) else float(v))
                    for k, v in zip(("open", "high", "low", "close", "volume"), vals, strict=True)
                },
                source=source,
                reason=r.reason,
                detail=r.detail,
                fingerprint=fingerprint(r.symbol, interval, day, vals, r.reason),
            )
        )
    unique = {row.fingerprint: row for row in rows}
    existing = set(
        QuarantinedBar.objects.filter(fingerprint__in=list(unique)).values_list(
            "fingerprint", flat=True
        )
    )
    QuarantinedBar.objects.bulk_create(
        [row for fp, row in unique.items() if fp not in existing],
        ignore_conflicts=True,  # a concurrent run may have inserted the same bar meanwhile
        batch_size=2000,
    )
    return len(unique) - len(existing)
