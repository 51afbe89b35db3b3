"""The 17 earnings features, point in time, for any set of (symbol, day) rows at once.

Inputs come from the database (``EarningsEvent``, ``Fundamentals``, loaded by ingestion's
``load_reference_data``), the transcript lexicon scores (``features.transcripts``, cached under
``var/``) and the panel's closes. Every rule below decides *when* a fact becomes usable: a
feature for trading day t (after its close) uses only facts whose "known day" is <= t. Days are
NYSE session numbers (``ingestion.calendar``); "age" is t minus the known day, in trading days.
NaN means missing — never a silent 0 — and the models get the NaN pattern as their mask.

Per-event facts (``EarningsEvent``):
* known day of the actual figures = first panel day >= ``event.date`` (released by the close
  of that day, after-hours included — the rule of docs/contracts.md).
* ``eps_surprise_pct`` = (actual - estimate) / |estimate| of the latest event with both values,
  age <= 70 (about one quarter); NaN when the estimate is 0. The absolute value keeps the sign
  meaning "beat" for negative estimates.
* ``revenue_surprise_pct``: same with revenue; the shared data has no revenue estimates, so it
  is missing everywhere unless a provider fills ``revenue_estimate``.
* ``beat_rate_4q`` = share of actual > estimate among the last 4 events with both values
  (at least 2, the latest of age <= 200).
* Post-earnings returns: base day b = the trading day before ``reaction_date`` (the last close
  before the market reacts). ``ret30 = C[b+21] / C[b] - 1`` (21 trading days ~ 30 calendar
  days) is known from day b+21; ``ret12m = C[b+252] / C[b] - 1`` from day b+252 (the window
  must have ENDED). C is the forward-filled close.
  ``return_30d_avg`` = mean ret30 of the last 8 ended windows (at least 2, known-day age <= 735),
  ``return_12m_avg`` = mean ret12m of the last 4 ended windows (at least 2, age <= 504), so the
  base day of every event used is within 756 trading days of t (the live engine keeps that much
  close history).
* ``pattern_score`` (0-100) = 100 x share of positive ret30 among the same 8 windows as
  ``return_30d_avg``: how consistently the stock has risen after its earnings.

Fundamentals (annual 10-K figures, 2012-2016 in the shared data): known day = first panel day
>= ``available_on`` (ingestion's filing date or documented lag; ``period_end + 90 days`` when
it is empty). The latest known period with age <= 300 (about 14 months) gives
``gross_margin`` = gross profit / revenue, ``operating_margin`` = operating income / revenue,
``net_margin`` = net income / revenue, ``roic`` = net income / invested capital (invested
capital = the stored value, else total equity + total debt), ``fcf_margin`` = free cash flow /
revenue (free cash flow = stored value, else operating cash flow - |capital expenditures|),
``revenue_growth_yoy`` = revenue / revenue of the previous fiscal year's row (period end 300 to
430 days earlier) - 1.
``fundamental_score`` (0-100) = 100 x mean of the available components among: gross margin
scaled linearly from 0 to 0.6, operating margin -0.05 to 0.30, net margin -0.05 to 0.25,
revenue growth -0.10 to 0.25, roic -0.05 to 0.25, fcf margin -0.05 to 0.25 (each clipped to
[0, 1]); at least 3 components, else missing. Fixed ranges, so the score of a row never depends
on other symbols or later data.
``combined_score`` = 0.6 x fundamental_score + 0.4 x pattern_score (missing if either is).

Transcripts (ECTSum, 2018-2022, ``TICKER_qN_YYYY``): the call is assumed to belong to the
first ``EarningsEvent`` of the symbol dated after the end of calendar quarter N of YYYY (within
120 days) and becomes known on that event's date; without such an event, 90 days after the
quarter end (the latest a 10-Q/10-K can be filed). Latest known transcript with age <= 100
gives ``transcript_sentiment`` (-1..1), ``mgmt_confidence`` (0..1) and ``guidance_surprise``
(-1/0/+1) — formulas in ``features/transcripts.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from features.definitions import EARNINGS_FEATURES, N_EARNINGS
from features.panel import Panel

T = TypeVar("T")
_COL = {name: i for i, name in enumerate(EARNINGS_FEATURES)}
_BIG = np.int64(1 << 32)
HORIZON_30D = 21
HORIZON_12M = 252
CLOSE_LOOKBACK = 756  # trading days of close history the post-earnings features can reach
SCORE_RANGES = {
    "gross_margin": (0.0, 0.6),
    "operating_margin": (-0.05, 0.30),
    "net_margin": (-0.05, 0.25),
    "revenue_growth_yoy": (-0.10, 0.25),
    "roic": (-0.05, 0.25),
    "fcf_margin": (-0.05, 0.25),
}


@dataclass
class EarningsData:
    """The raw facts, one frame each (``ticker`` column + dates as datetime64[D])."""

    events: pd.DataFrame  # ticker, date, reaction_date, eps_estimate, eps_actual, revenue_*
    fundamentals: pd.DataFrame  # ticker, period_end, available_on, figures...
    transcripts: pd.DataFrame  # ticker, quarter, year, sentiment, confidence, guidance
    # Set by transcript_known_dates: the facts are immutable once loaded, so computed once.
    _transcript_known: pd.DataFrame | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def empty(cls) -> EarningsData:
        return cls(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())

    @classmethod
    def from_csv(cls, tickers: list[str] | np.ndarray | None = None) -> EarningsData:
        """The same facts straight from the shared CSVs, for tests, benchmarks and coverage
        measurement without a loaded database. It reuses ingestion's own readers
        (``ingestion.reference``: event merging, reaction-day rule, fundamentals lag), so the
        values equal what ``from_db`` gives after ``load_reference_data``."""
        from django.conf import settings

        from features.transcripts import transcript_scores
        from ingestion.reference.earnings import merged_events
        from ingestion.reference.fundamentals import fundamentals_rows

        root = settings.SHARED_DATA_DIR
        wanted = None if tickers is None else {str(t) for t in tickers}
        ev = merged_events(root)
        if wanted is not None:
            ev = ev[ev["ticker"].isin(wanted)]
        ev = ev.assign(revenue_estimate=np.nan, revenue_actual=np.nan).reset_index(drop=True)
        fu = pd.DataFrame(fundamentals_rows(root)).drop(columns=["raw"], errors="ignore")
        if wanted is not None and not fu.empty:
            fu = fu[fu["ticker"].isin(wanted)]
        fu = fu.reset_index(drop=True)
        try:
            tr = transcript_scores()
        except FileNotFoundError:
            tr = pd.DataFrame()
        if wanted is not None and not tr.empty:
            tr = tr[tr["ticker"].isin(wanted)]
        return cls(ev, fu, tr)

    @classmethod
    def from_db(cls, tickers: list[str] | np.ndarray | None = None) -> EarningsData:
        from features.transcripts import transcript_scores
        from ingestion.models import EarningsEvent, Fundamentals

        events = EarningsEvent.objects.all()
        funds = Fundamentals.objects.all()
        if tickers is not None:
            wanted = sorted({str(t) for t in tickers})
            events = events.filter(symbol__ticker__in=wanted)
            funds = funds.filter(symbol__ticker__in=wanted)
        ev = pd.DataFrame(
            list(
                events.values(
                    "symbol__ticker",
                    "date",
                    "reaction_date",
                    "eps_estimate",
                    "eps_actual",
                    "revenue_estimate",
                    "revenue_actual",
                )
            )
        ).rename(columns={"symbol__ticker": "ticker"})
        fu = pd.DataFrame(
            list(
                funds.filter(period_type="annual").values(
                    "symbol__ticker",
                    "period_end",
                    "available_on",
                    "revenue",
                    "gross_profit",
                    "cost_of_revenue",
                    "operating_income",
                    "net_income",
                    "operating_cash_flow",
                    "capital_expenditures",
                    "free_cash_flow",
                    "total_equity",
                    "total_debt",
                    "invested_capital",
                )
            )
        ).rename(columns={"symbol__ticker": "ticker"})
        tr = pd.DataFrame()
        if not ev.empty:
            try:
                tr = transcript_scores()
            except FileNotFoundError:  # no transcript archive on this machine
                tr = pd.DataFrame()
            if tickers is not None and not tr.empty:
                tr = tr[tr["ticker"].isin(set(map(str, tickers)))]
        return cls(ev, fu, tr)


# -- vectorised lookups -------------------------------------------------------------------


def _session_no(values: pd.Series | np.ndarray) -> np.ndarray:
    """NYSE session number of the first trading day >= each date (-1 when missing). Ages are
    counted in these numbers, so they do not depend on where a panel or buffer starts."""
    from ingestion.calendar import sessions

    if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.datetime64):
        raw = values.astype("datetime64[D]")
    else:
        raw = pd.to_datetime(pd.Series(values), errors="coerce").to_numpy().astype("datetime64[D]")
    out = np.searchsorted(sessions(), raw, side="left").astype(np.int64)
    out[np.isnat(raw)] = -1
    return out


def _sym_codes(tickers: np.ndarray, names: pd.Series) -> np.ndarray:
    codes: np.ndarray = pd.Index(np.asarray(tickers).astype(str)).get_indexer(names.astype(str))
    return codes


class _Prepared:
    """Events sorted by (symbol, known day) with a running sum of one value: answers "mean of
    the last k known events" for millions of rows with three binary searches each."""

    def __init__(self, ev_sym: np.ndarray, ev_known: np.ndarray, values: np.ndarray) -> None:
        ok = (ev_sym >= 0) & (ev_known >= 0) & np.isfinite(values)
        sym, known, vals = ev_sym[ok].astype(np.int64), ev_known[ok].astype(np.int64), values[ok]
        order = np.lexsort((known, sym))
        self.keys = sym[order] * _BIG + known[order]
        self.csum = np.concatenate([[0.0], np.cumsum(vals[order])])
        self.source = np.flatnonzero(ok)[order]  # position of each sorted event in the input

    def query(
        self, rows_s: np.ndarray, rows_t: np.ndarray, *, last: int, min_n: int, max_age: int
    ) -> np.ndarray:
        out = np.full(len(rows_s), np.nan)
        if len(self.keys) == 0 or len(rows_s) == 0:
            return out
        row_s = rows_s.astype(np.int64) * _BIG
        row_t = rows_t.astype(np.int64)
        hi = np.searchsorted(self.keys, row_s + row_t, side="right")  # events [.., hi) known
        lo_age = np.searchsorted(self.keys, row_s + (row_t - max_age), side="left")
        lo_sym = np.searchsorted(self.keys, row_s, side="left")
        lo = np.maximum(np.maximum(lo_age, lo_sym), hi - last)
        n = hi - lo
        good = n >= max(min_n, 1)
        out[good] = (self.csum[hi[good]] - self.csum[lo[good]]) / n[good]
        return out

    def latest(self, rows_s: np.ndarray, rows_t: np.ndarray, *, max_age: int) -> np.ndarray:
        """Input position of the newest event known by t with age <= max_age, -1 if none."""
        res = np.full(len(rows_s), -1, dtype=np.int64)
        if len(self.keys) == 0 or len(rows_s) == 0:
            return res
        row_s = rows_s.astype(np.int64) * _BIG
        row_t = rows_t.astype(np.int64)
        hi = np.searchsorted(self.keys, row_s + row_t, side="right")
        lo = np.maximum(
            np.searchsorted(self.keys, row_s + (row_t - max_age), side="left"),
            np.searchsorted(self.keys, row_s, side="left"),
        )
        good = hi > lo
        res[good] = self.source[hi[good] - 1]
        return res


def _window_stat(
    ev_sym: np.ndarray,
    ev_known: np.ndarray,
    values: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
    *,
    last: int,
    min_n: int,
    max_age: int,
) -> np.ndarray:
    """Mean of ``values`` over each row's last ``last`` events known by day t (each of age
    <= max_age), NaN with fewer than ``min_n`` such events."""
    prepared = _Prepared(ev_sym, ev_known, values)
    return prepared.query(rows_s, rows_t, last=last, min_n=min_n, max_age=max_age)


def _tickers_key(tickers: np.ndarray) -> tuple[int, int]:
    arr = np.asarray(tickers).astype(str)
    return len(arr), hash(arr.tobytes())


def _memo(data: EarningsData, key: tuple[str, tuple[int, int]], build: Callable[[], T]) -> T:
    """Per-EarningsData cache: the facts never change once loaded, so their sorted indexes are
    built once per universe instead of on every live update."""
    cache = data.__dict__.setdefault("_memo", {})
    if key not in cache:
        cache[key] = build()
    value: T = cache[key]
    return value


def _ffill_at(close: np.ndarray, sym: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Forward-filled close at (symbol, day) points; rows with a missing point are filled
    on their own (filling the whole matrix would cost S x D per update)."""
    vals: np.ndarray = close[sym, day]
    miss = np.flatnonzero(np.isnan(vals))
    if len(miss):
        rows = np.unique(sym[miss])
        sub = close[rows]
        d = sub.shape[1]
        idx = np.where(np.isfinite(sub), np.arange(d, dtype=np.int32)[np.newaxis, :], 0)
        np.maximum.accumulate(idx, axis=1, out=idx)
        where = np.searchsorted(rows, sym[miss])
        vals[miss] = sub[where, idx[where, day[miss]]]
    return vals


# -- the features -------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventFacts:
    surprise: _Prepared
    rev_surprise: _Prepared
    beat: _Prepared
    sym: np.ndarray  # symbol code of each event with a known reaction day
    reaction: np.ndarray  # its reaction day (NYSE session number)


def _event_facts(ev: pd.DataFrame, tickers: np.ndarray) -> _EventFacts:
    sym = _sym_codes(tickers, ev["ticker"])
    known = _session_no(ev["date"])
    est = ev["eps_estimate"].to_numpy(dtype=np.float64)
    act = ev["eps_actual"].to_numpy(dtype=np.float64)
    rev_est = ev["revenue_estimate"].to_numpy(dtype=np.float64)
    rev_act = ev["revenue_actual"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        surprise = np.where(est != 0, (act - est) / np.abs(est), np.nan)
        beat = np.where(np.isfinite(act) & np.isfinite(est), (act > est).astype(float), np.nan)
        rev_surprise = np.where(rev_est != 0, (rev_act - rev_est) / np.abs(rev_est), np.nan)
    reaction = _session_no(ev["reaction_date"])
    keep = (sym >= 0) & (reaction >= 0)
    return _EventFacts(
        surprise=_Prepared(sym, known, surprise),
        rev_surprise=_Prepared(sym, known, rev_surprise),
        beat=_Prepared(sym, known, beat),
        sym=sym[keep],
        reaction=reaction[keep],
    )


def _event_features(
    out: np.ndarray,
    data: EarningsData,
    tickers: np.ndarray,
    dates: np.ndarray,
    close: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
) -> None:
    ev = data.events
    if ev.empty:
        return
    facts = _memo(data, ("events", _tickers_key(tickers)), lambda: _event_facts(ev, tickers))
    out[:, _COL["eps_surprise_pct"]] = facts.surprise.query(
        rows_s, rows_t, last=1, min_n=1, max_age=70
    )
    out[:, _COL["revenue_surprise_pct"]] = facts.rev_surprise.query(
        rows_s, rows_t, last=1, min_n=1, max_age=70
    )
    out[:, _COL["beat_rate_4q"]] = facts.beat.query(rows_s, rows_t, last=4, min_n=2, max_age=200)
    _post_earnings_features(out, facts, dates, close, rows_s, rows_t)


def _post_earnings_features(
    out: np.ndarray,
    facts: _EventFacts,
    dates: np.ndarray,
    close: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
) -> None:
    # Post-earnings returns from the base day b = the day before the reaction day, with b and
    # the window's end both inside the given close history.
    day_no = _session_no(dates)
    sym = facts.sym
    reaction = np.searchsorted(day_no, facts.reaction, side="left")  # first day >= reaction
    d = len(dates)
    base = reaction - 1
    ret = {}
    for horizon in (HORIZON_30D, HORIZON_12M):
        end = base + horizon
        valid = (base >= 0) & (reaction < d) & (end < d)
        s_v, b_v, e_v = sym[valid], base[valid], end[valid]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = _ffill_at(close, s_v, e_v) / _ffill_at(close, s_v, b_v) - 1.0
        ret[horizon] = (s_v, day_no[e_v], r)
    age30 = CLOSE_LOOKBACK - HORIZON_30D
    age12 = CLOSE_LOOKBACK - HORIZON_12M
    s30, k30, r30 = ret[HORIZON_30D]
    s12, k12, r12 = ret[HORIZON_12M]
    out[:, _COL["return_30d_avg"]] = _window_stat(
        s30, k30, r30, rows_s, rows_t, last=8, min_n=2, max_age=age30
    )
    out[:, _COL["return_12m_avg"]] = _window_stat(
        s12, k12, r12, rows_s, rows_t, last=4, min_n=2, max_age=age12
    )
    up = np.where(np.isfinite(r30), (r30 > 0).astype(float), np.nan)
    out[:, _COL["pattern_score"]] = 100.0 * _window_stat(
        s30, k30, up, rows_s, rows_t, last=8, min_n=2, max_age=age30
    )


def _fundamental_facts(
    data: EarningsData, tickers: np.ndarray
) -> tuple[dict[str, np.ndarray], _Prepared]:
    """Each period's ratios (by name) and the periods indexed by the day they became known."""
    fu = data.fundamentals.copy()
    fu["period_end"] = pd.to_datetime(fu["period_end"])
    avail = pd.to_datetime(fu["available_on"], errors="coerce")
    fu["available_on"] = avail.fillna(fu["period_end"] + pd.Timedelta(days=90))
    fu = fu.sort_values(["ticker", "period_end"], ignore_index=True)

    def col(name: str) -> np.ndarray:
        if name not in fu.columns:
            return np.full(len(fu), np.nan)
        numbers: np.ndarray = pd.to_numeric(fu[name], errors="coerce").to_numpy(dtype=np.float64)
        return numbers

    rev = col("revenue")
    gross = col("gross_profit")
    gross = np.where(np.isfinite(gross), gross, rev - col("cost_of_revenue"))
    invested = col("invested_capital")
    invested = np.where(np.isfinite(invested), invested, col("total_equity") + col("total_debt"))
    fcf = col("free_cash_flow")
    fcf = np.where(
        np.isfinite(fcf), fcf, col("operating_cash_flow") - np.abs(col("capital_expenditures"))
    )
    prev_rev = np.full(len(fu), np.nan)
    same = fu["ticker"].to_numpy()[1:] == fu["ticker"].to_numpy()[:-1]
    ends = fu["period_end"].to_numpy()
    gap = (ends[1:] - ends[:-1]) / np.timedelta64(1, "D")
    prior = same & (gap >= 300) & (gap <= 430)
    prev_rev[1:][prior] = rev[:-1][prior]
    with np.errstate(invalid="ignore", divide="ignore"):
        pos_rev = np.where(rev > 0, rev, np.nan)
        values = {
            "gross_margin": gross / pos_rev,
            "operating_margin": col("operating_income") / pos_rev,
            "net_margin": col("net_income") / pos_rev,
            "revenue_growth_yoy": np.where(prev_rev > 0, rev / prev_rev - 1.0, np.nan),
            "roic": np.where(invested > 0, col("net_income") / invested, np.nan),
            "fcf_margin": fcf / pos_rev,
        }
    sym = _sym_codes(tickers, fu["ticker"])
    known = _session_no(fu["available_on"])
    return values, _Prepared(sym, known, np.zeros(len(fu)))


def _fundamental_features(
    out: np.ndarray,
    data: EarningsData,
    tickers: np.ndarray,
    dates: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
) -> None:
    if data.fundamentals.empty:
        return
    values, periods = _memo(
        data, ("fundamentals", _tickers_key(tickers)), lambda: _fundamental_facts(data, tickers)
    )
    # One lookup of the latest known period, then every value from that period.
    latest = periods.latest(rows_s, rows_t, max_age=300)
    has = latest >= 0
    pick = latest[has]
    components = []
    for name, vals in values.items():
        column = np.full(len(rows_s), np.nan)
        column[has] = vals[pick]
        out[:, _COL[name]] = column
        lo, hi = SCORE_RANGES[name]
        components.append(np.clip((column - lo) / (hi - lo), 0.0, 1.0))
    comp = np.vstack(components)
    n_comp = np.isfinite(comp).sum(axis=0)
    with np.errstate(invalid="ignore"):
        score = 100.0 * np.nansum(comp, axis=0) / np.maximum(n_comp, 1)
    out[:, _COL["fundamental_score"]] = np.where(n_comp >= 3, score, np.nan)


def transcript_known_dates(data: EarningsData) -> pd.DataFrame:
    """The transcripts with the date each becomes usable (``known_on``), per the module rule."""
    cached = data._transcript_known
    if cached is not None:
        return cached
    tr = data.transcripts
    if tr.empty:
        return tr
    tr = tr.copy()
    qend = pd.to_datetime(
        {"year": tr["year"], "month": tr["quarter"] * 3, "day": 1}
    ) + pd.offsets.MonthEnd(0)
    tr["quarter_end"] = qend.astype("datetime64[ns]")
    fallback = qend + pd.Timedelta(days=90)
    tr["known_on"] = fallback
    ev = data.events
    if not ev.empty:
        evd = ev[["ticker", "date"]].copy()
        evd["date"] = pd.to_datetime(evd["date"]).astype("datetime64[ns]")
        evd = evd.sort_values("date")
        left = tr.reset_index().sort_values("quarter_end")
        merged = pd.merge_asof(
            left,
            evd.rename(columns={"date": "event_date"}),
            left_on="quarter_end",
            right_on="event_date",
            by="ticker",
            direction="forward",
            allow_exact_matches=False,
            tolerance=pd.Timedelta(days=120),
        ).set_index("index")
        matched = merged["event_date"].reindex(tr.index)
        tr["known_on"] = matched.fillna(fallback)
    tr["known_no"] = _session_no(tr["known_on"])
    data._transcript_known = tr  # the facts are immutable once loaded: compute once
    return tr


def _transcript_features(
    out: np.ndarray,
    data: EarningsData,
    tickers: np.ndarray,
    dates: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
) -> None:
    tr = transcript_known_dates(data)
    if tr.empty:
        return

    def build() -> _Prepared:
        sym = _sym_codes(tickers, tr["ticker"])
        return _Prepared(sym, tr["known_no"].to_numpy(), np.zeros(len(tr)))

    calls = _memo(data, ("transcripts", _tickers_key(tickers)), build)
    # The latest transcript per row, so a missing guidance is not replaced by an older one.
    latest = calls.latest(rows_s, rows_t, max_age=100)
    has = latest >= 0
    for name, column in (
        ("transcript_sentiment", "sentiment"),
        ("mgmt_confidence", "confidence"),
        ("guidance_surprise", "guidance"),
    ):
        vals = tr[column].to_numpy(dtype=np.float64)
        res = np.full(len(rows_s), np.nan)
        res[has] = vals[latest[has]]
        out[:, _COL[name]] = res


def earnings_features_rows(
    data: EarningsData,
    tickers: np.ndarray,
    dates: np.ndarray,
    close: np.ndarray,
    rows_s: np.ndarray,
    rows_t: np.ndarray,
) -> np.ndarray:
    """(N, 17) float64 for rows (tickers[rows_s], dates[rows_t]) over the given (S, D) closes."""
    out = np.full((len(rows_s), N_EARNINGS), np.nan)
    if len(rows_s) == 0:
        return out
    dates = np.asarray(dates).astype("datetime64[D]")
    rows_day = _session_no(dates)[rows_t]  # ages are counted in NYSE sessions
    _event_features(out, data, tickers, dates, close, rows_s, rows_day)
    _fundamental_features(out, data, tickers, dates, rows_s, rows_day)
    _transcript_features(out, data, tickers, dates, rows_s, rows_day)
    f, p = out[:, _COL["fundamental_score"]], out[:, _COL["pattern_score"]]
    out[:, _COL["combined_score"]] = 0.6 * f + 0.4 * p
    return out


def earnings_features(
    panel: Panel,
    sym_idx: np.ndarray,
    day_idx: np.ndarray,
    data: EarningsData | None = None,
) -> np.ndarray:
    """(N, 17) float32 earnings features for the rows (panel.tickers[sym_idx], dates[day_idx])."""
    if data is None:
        data = EarningsData.from_db(panel.tickers)
    res = earnings_features_rows(data, panel.tickers, panel.dates, panel.close, sym_idx, day_idx)
    return res.astype(np.float32)


def as_date(value: np.datetime64) -> dt.date:
    day: dt.date = value.astype("datetime64[D]").item()
    return day
