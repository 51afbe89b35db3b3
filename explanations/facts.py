"""The structured facts an explanation may state: the prediction, its interval, the model's
inputs, the earnings context and the key drivers. The prompt is built from them, the template
renders them, and the grounding check accepts only numbers that match one of them.

Each numeric fact has a ``kind`` that says how it is written in text: ``return`` values are
fractions shown as percentages (0.0123 -> "1.23%"), ``price`` in dollars, ``number`` as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import redis

from core.redis_clients import Preset, client
from features.definitions import FEATURE_LABELS, PERCENT_FEATURES
from features.store import read_raw
from predictions import latest
from predictions.snapshots import inputs_of, numbers

Z80 = 1.2815516  # the normal quantile of 0.9: p10..p90 spans 2 * Z80 sigma


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    value: float | str
    kind: str  # "return" | "price" | "number" | "text" | "date"

    @property
    def is_numeric(self) -> bool:
        return isinstance(self.value, int | float) and math.isfinite(float(self.value))


def format_value(value: float, kind: str) -> str:
    if kind == "return":
        return f"{value * 100:+.2f}%"
    if kind == "price":
        return f"${value:,.2f}"
    if abs(value) >= 1e9:
        return f"{value / 1e9:.2f} billion"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.2f} million"
    return f"{value:.2f}"


def feature_kind(name: str) -> str:
    return "return" if name in PERCENT_FEATURES else "number"


@dataclass
class Facts:
    symbol: str
    prediction: dict[str, Any]
    features: dict[str, float]
    earnings: dict[str, Any] | None
    drivers: list[dict[str, Any]] = field(default_factory=list)
    extra: list[Fact] = field(default_factory=list)

    # --- derived figures ---
    @property
    def predicted_return(self) -> float:
        return float(self.prediction["predicted_return_1d"])

    @property
    def sigma(self) -> float | None:
        p10, p90 = self.prediction.get("p10"), self.prediction.get("p90")
        if p10 is not None and p90 is not None:
            return (float(p90) - float(p10)) / (2 * Z80)
        s = self.prediction.get("uncertainty_sigma")
        return float(s) if s is not None else None

    @property
    def confidence(self) -> float:
        """P(realised return has the sign of the point forecast) under the model's interval,
        read as a normal distribution with the interval's sigma (0.5 = a coin flip)."""
        sigma = self.sigma
        if not sigma or sigma <= 0:
            return 0.5
        z = abs(self.predicted_return) / sigma
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    @property
    def data_date(self) -> date | None:
        raw = self.prediction.get("data_timestamp")
        if not raw:
            return None
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).date()

    @property
    def is_earnings_day(self) -> bool:
        return self.prediction.get("model_type") == "earnings_day" or bool(self.earnings)

    def all(self) -> list[Fact]:
        return [
            *self._prediction_facts(),
            *self._feature_facts(),
            *self._earnings_facts(),
            *self._driver_facts(),
            *self.extra,
        ]

    def _prediction_facts(self) -> list[Fact]:
        p = self.prediction
        facts = [
            Fact("symbol", "symbol", self.symbol, "text"),
            Fact("current_price", "current price", float(p["current_price"]), "price"),
            Fact("predicted_return_1d", "predicted 1-day return", self.predicted_return, "return"),
            Fact("predicted_price", "predicted price", float(p["predicted_price"]), "price"),
            Fact("confidence", "confidence", self.confidence, "return"),
            Fact("interval_level", "interval coverage", 0.80, "return"),
            Fact("model_type", "model", str(p.get("model_type", "")), "text"),
            Fact("model_version", "model version", str(p.get("model_version", "")), "text"),
        ]
        for key in ("p10", "p50", "p90"):
            if p.get(key) is not None:
                price = float(p["current_price"]) * (1 + float(p[key]))
                facts.append(Fact(key, f"{key} of the next-day return", float(p[key]), "return"))
                facts.append(Fact(f"{key}_price", f"{key} price", price, "price"))
        if self.sigma is not None:
            facts.append(Fact("uncertainty_sigma", "uncertainty (sigma)", self.sigma, "return"))
        if self.data_date:
            facts.append(Fact("data_date", "data as of", self.data_date.isoformat(), "date"))
        return facts

    def _feature_facts(self) -> list[Fact]:
        return [
            Fact(name, FEATURE_LABELS.get(name, name), float(value), feature_kind(name))
            for name, value in self.features.items()
            if value is not None and math.isfinite(value)
        ]

    def _earnings_facts(self) -> list[Fact]:
        earnings = self.earnings or {}
        numbers = [
            Fact(key, key.replace("_", " "), float(earnings[key]), "number")
            for key in ("eps_estimate", "eps_actual")
            if earnings.get(key) is not None
        ]
        dates = [
            Fact(key, key.replace("_", " "), str(earnings[key]), "date")
            for key in ("announcement_date", "reaction_date")
            if earnings.get(key)
        ]
        return numbers + dates

    def _driver_facts(self) -> list[Fact]:
        return [
            Fact(
                f"contribution_{d['feature']}",
                f"contribution of {d['label']}",
                float(d["contribution"]),
                "return",
            )
            for d in self.drivers
        ]


def load_prediction(
    symbol: str,
) -> tuple[dict[str, Any] | None, dict[str, float], dict[str, Any] | None]:
    """(prediction, features, earnings context) of a symbol: the latest prediction (Redis
    first, the ``Prediction`` row otherwise) with the inputs it was made from (the row's
    snapshot for the same data day, else the live ``features:{SYMBOL}`` hash)."""
    symbol = symbol.upper()
    row = latest.from_database([symbol], with_snapshot=True).get(symbol)
    try:
        cached = latest.from_cache([symbol], client(Preset.WORKER)).get(symbol)
    except redis.RedisError:  # Redis down: PostgreSQL still has the latest prediction
        cached = None
    prediction = cached or row
    if prediction is None:
        return None, {}, None
    features: dict[str, float] = {}
    if row is not None and (cached is None or cached.data_date == row.data_date):
        features = inputs_of(symbol, row.data_timestamp, row.features_snapshot)
    if not features:
        features = numbers(read_raw(symbol))
    earnings = row.earnings_context if row is not None else None
    return prediction.to_json(), features, earnings
