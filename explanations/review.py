"""Post-mortem of one realised prediction: why was it off?

For the prediction whose target trading day is ``day``: predicted vs realised return, inside or
outside the 80% interval, the part of the move the market explains (beta x the S&P 500 return
that day, beta estimated on the 120 trading days before the prediction, point in time), whether
the day was an earnings reaction (with the EPS surprise), whether bars of the symbol were
quarantined as unusual in the 30 days before the prediction, and the most relevant excerpt
dated no later than the prediction. The text is the template below, held to the same grounding
check as every explanation; the figures it states are facts of the review.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.enums import ONE_DAY_TYPES
from explanations.facts import Fact
from explanations.grounding import GroundingResult, check
from explanations.retrieval import Excerpt, retrieve

BETA_DAYS = 120
FLAG_LOOKBACK_DAYS = 30


class ReviewUnavailable(LookupError):
    """No prediction for that day, or it is not realised yet."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Review:
    symbol: str
    day: dt.date
    record: dict[str, Any]
    realised: float
    market_return: float | None = None
    beta: float | None = None
    earnings: dict[str, Any] | None = None
    flags: list[str] | None = None
    excerpts: list[Excerpt] = field(default_factory=list)

    @property
    def predicted(self) -> float:
        return float(self.record["predicted_return_1d"])

    @property
    def inside(self) -> bool | None:
        p10, p90 = self.record.get("p10"), self.record.get("p90")
        if p10 is None or p90 is None:
            return None
        return bool(float(p10) <= self.realised <= float(p90))

    @property
    def market_part(self) -> float | None:
        if self.beta is None or self.market_return is None:
            return None
        return self.beta * self.market_return


def _record(symbol: str, day: dt.date) -> dict[str, Any]:
    from predictions.models import PredictionRecord

    row = (
        PredictionRecord.objects.filter(
            symbol__ticker=symbol, target_date=day, model_type__in=ONE_DAY_TYPES
        )
        .order_by("-predicted_at")
        .values(
            "data_timestamp",
            "model_type",
            "model_version",
            "current_price",
            "predicted_return_1d",
            "predicted_price",
            "p10",
            "p50",
            "p90",
            "realised_return",
        )
        .first()
    )
    if row is None:
        raise ReviewUnavailable(f"No prediction of {symbol} for {day}", "not_found")
    return dict(row)


def _closes(ticker: str, start: dt.date, end: dt.date) -> dict[dt.date, float]:
    from ingestion.models import PriceBar

    rows = PriceBar.objects.filter(
        symbol__ticker=ticker,
        interval="1d",
        timestamp__date__gte=start,
        timestamp__date__lte=end,
    ).values_list("timestamp", "close")
    return {ts.date(): float(close) for ts, close in rows}


def _realised(symbol: str, day: dt.date, record: dict[str, Any]) -> float:
    if record.get("realised_return") is not None:
        return float(record["realised_return"])
    close = _closes(symbol, day, day).get(day)
    if close is None or not record["current_price"]:
        raise ReviewUnavailable(
            f"The prediction of {symbol} for {day} is not realised yet", "not_realised"
        )
    # Measured from the close the prediction started from, as predictions.accuracy does.
    return close / float(record["current_price"]) - 1.0


def _returns(closes: dict[dt.date, float], days: list[dt.date]) -> np.ndarray:
    values = np.array([closes.get(d, np.nan) for d in days], dtype=np.float64)
    return values[1:] / values[:-1] - 1.0


def _market(symbol: str, data_day: dt.date, day: dt.date) -> tuple[float | None, float | None]:
    """(S&P 500 return of ``day``, beta of the symbol over the BETA_DAYS before ``data_day``)."""
    from features.market import market_close
    from ingestion.calendar import trading_days

    start = data_day - dt.timedelta(days=int(BETA_DAYS * 1.6))
    days = trading_days(start, day)
    market = market_close(np.array(days, dtype="datetime64[D]"))
    m = market[1:] / market[:-1] - 1.0
    market_return = float(m[-1]) if len(m) and math.isfinite(m[-1]) else None
    stock = _returns(_closes(symbol, start, data_day), [d for d in days if d <= data_day])
    m_hist = m[: len(stock)][-BETA_DAYS:]
    s_hist = stock[-BETA_DAYS:]
    ok = np.isfinite(m_hist) & np.isfinite(s_hist)
    if ok.sum() < 40 or np.var(m_hist[ok]) <= 0:
        return market_return, None
    beta = float(np.cov(s_hist[ok], m_hist[ok])[0, 1] / np.var(m_hist[ok], ddof=1))
    return market_return, beta


def _earnings(symbol: str, day: dt.date) -> dict[str, Any] | None:
    from ingestion.models import EarningsEvent

    event = (
        EarningsEvent.objects.filter(symbol__ticker=symbol, reaction_date=day)
        .values("date", "eps_estimate", "eps_actual")
        .first()
    )
    if event is None:
        return None
    est, act = event["eps_estimate"], event["eps_actual"]
    surprise = (act - est) / abs(est) if est not in (None, 0) and act is not None else None
    return {
        "announcement_date": event["date"].isoformat(),
        "eps_estimate": est,
        "eps_actual": act,
        "eps_surprise_pct": surprise,
    }


def _flags(symbol: str, data_day: dt.date) -> list[str]:
    from ingestion.models import QuarantinedBar

    since = data_day - dt.timedelta(days=FLAG_LOOKBACK_DAYS)
    rows = QuarantinedBar.objects.filter(
        ticker=symbol, timestamp__date__gte=since, timestamp__date__lte=data_day
    ).values_list("timestamp", "reason")
    return sorted({f"{ts.date().isoformat()}: {reason}" for ts, reason in rows if ts})


def build_review(symbol: str, day: dt.date) -> Review:
    symbol = symbol.upper()
    record = _record(symbol, day)
    data_day = record["data_timestamp"].date()
    review = Review(symbol, day, record, _realised(symbol, day, record))
    review.market_return, review.beta = _market(symbol, data_day, day)
    review.earnings = _earnings(symbol, day)
    review.flags = _flags(symbol, data_day)
    query = f"{symbol} " + (
        "earnings results surprise guidance reaction" if review.earnings else "stock move risk"
    )
    review.excerpts, _ = retrieve(query, symbol=symbol, k=3, as_of=data_day)
    return review


def review_facts(review: Review) -> list[Fact]:
    r = review.record
    facts = [
        Fact("symbol", "symbol", review.symbol, "text"),
        Fact("model_version", "model version", str(r["model_version"]), "text"),
        Fact("predicted_return_1d", "predicted return", review.predicted, "return"),
        Fact("realised_return", "realised return", review.realised, "return"),
        Fact("error", "error", review.realised - review.predicted, "return"),
        Fact("interval_level", "interval coverage", 0.80, "return"),
        Fact("target_date", "day", review.day.isoformat(), "date"),
    ]
    facts += [Fact(k, k, float(r[k]), "return") for k in ("p10", "p90") if r.get(k) is not None]
    optional = [
        ("market_return", "S&P 500 return", review.market_return, "return"),
        ("market_beta", "beta", review.beta, "number"),
        ("market_part", "market-explained return", review.market_part, "return"),
    ]
    if review.market_part is not None:
        residual = review.realised - review.market_part
        optional.append(("residual_return", "return beyond the market", residual, "return"))
    if review.earnings:
        optional += [
            (
                k,
                k.replace("_", " "),
                review.earnings.get(k),
                "return" if k.endswith("pct") else "number",
            )
            for k in ("eps_surprise_pct", "eps_estimate", "eps_actual")
        ]
        facts.append(
            Fact("announcement_date", "announcement", review.earnings["announcement_date"], "date")
        )
    facts += [Fact(k, label, float(v), kind) for k, label, v, kind in optional if v is not None]
    if review.flags:  # what the "quarantined as unusual" sentence states
        facts.append(
            Fact("inputs_flagged", "inputs flagged unusual", "; ".join(review.flags), "text")
        )
    return facts


def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def render_review(review: Review) -> str:
    r = review.record
    parts = [
        (
            f"For {review.day.isoformat()} the model predicted {review.symbol} to move "
            f"{_pct(review.predicted)}; the realised return was {_pct(review.realised)}."
        )
    ]
    if review.inside is not None:
        where = "inside" if review.inside else "outside"
        parts.append(
            f"That is {where} the 80% interval of {_pct(float(r['p10']))} to "
            f"{_pct(float(r['p90']))}."
        )
    if (
        review.market_part is not None
        and review.market_return is not None
        and review.beta is not None
    ):
        parts.append(
            f"The S&P 500 returned {_pct(review.market_return)} that day; with a beta of "
            f"{review.beta:.2f} the market explains {_pct(review.market_part)} of the move, "
            f"leaving {_pct(review.realised - review.market_part)} specific to {review.symbol}."
        )
    if review.earnings:
        surprise = review.earnings.get("eps_surprise_pct")
        parts.append(
            f"It was an earnings reaction day (announcement {review.earnings['announcement_date']}"
            + (f", EPS surprise {_pct(surprise)}" if surprise is not None else "")
            + ")."
        )
    if review.flags:
        parts.append(f"Bars of {review.symbol} were quarantined as unusual before the prediction.")
    return " ".join(parts)


def review_payload(review: Review) -> dict[str, Any]:
    text = render_review(review)
    grounding: GroundingResult = check(
        text, review_facts(review), [e.text for e in review.excerpts]
    )
    r = review.record
    best = review.excerpts[0].as_source() if review.excerpts else None
    return {
        "symbol": review.symbol,
        "date": review.day.isoformat(),
        "data_date": r["data_timestamp"].date().isoformat(),
        "model_type": r["model_type"],
        "model_version": r["model_version"],
        "predicted_return": review.predicted,
        "realised_return": review.realised,
        "error": review.realised - review.predicted,
        "p10": r.get("p10"),
        "p90": r.get("p90"),
        "inside_interval": review.inside,
        "market_return": review.market_return,
        "beta": review.beta,
        "market_explained_return": review.market_part,
        "earnings": review.earnings,
        "inputs_flagged": bool(review.flags),
        "flags": review.flags,
        "excerpt": best,
        "text": text,
        "grounding": grounding.as_dict(),
    }
