"""Trading signals from the latest forecasts: probability of a rise, decile rank, drivers.

- ``prob_up``: P(next-day return > 0) under a normal distribution matched to the predicted
  quantiles: mean p50, sigma = (p90 - p10) / (2 x 1.2815516) (the contract's
  ``uncertainty_sigma``); P = Phi(p50 / sigma). Stated in every answer as ``prob_method``.
- ``decile``: 1 (lowest) .. 10 (highest) rank of the median forecast (p50, else the point
  forecast) among every symbol predicted from the same (latest) data day.
- drivers: ``explanations.drivers.key_drivers`` (occlusion on the ONNX graph that made the
  prediction) over the features the prediction was made from.

The latest predictions are read only through ``predictions.latest``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from predictions.latest import LatestPrediction, from_database, read_many
from predictions.snapshots import inputs_of

Z_90 = 1.2815516
PROB_METHOD = (
    "normal_from_quantiles: P(r > 0) = Phi(p50 / sigma), sigma = (p90 - p10) / (2 * 1.2815516)"
)


def prob_up(p10: float | None, p50: float | None, p90: float | None) -> float | None:
    if p10 is None or p50 is None or p90 is None:
        return None
    sigma = (p90 - p10) / (2 * Z_90)
    if not sigma > 0:
        return None
    return 0.5 * (1.0 + math.erf(p50 / (sigma * math.sqrt(2.0))))


def _center(p: LatestPrediction) -> float:
    return p.p50 if p.p50 is not None else p.predicted_return_1d


@dataclass(frozen=True)
class Universe:
    """Today's predicted symbols ranked: decile and rank (1 = highest forecast) per symbol."""

    predictions: dict[str, LatestPrediction]
    decile: dict[str, int]
    rank: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.decile)


def universe() -> Universe:
    """Every symbol with a latest prediction made from the latest data day."""
    from predictions.models import Prediction

    symbols = list(Prediction.objects.values_list("symbol__ticker", flat=True))
    found = read_many(symbols)
    days = [p.data_date for p in found.values() if p.data_date is not None]
    latest = max(days) if days else None
    today = {s: p for s, p in found.items() if p.data_date == latest}
    if not today:
        return Universe({}, {}, {})
    center = pd.Series({s: _center(p) for s, p in today.items()})
    pct = center.rank(method="first", pct=True)
    decile = np.clip(np.ceil(pct * 10), 1, 10).astype(int)
    rank = center.rank(method="first", ascending=False).astype(int)
    return Universe(today, {s: int(v) for s, v in decile.items()}, rank.to_dict())


def summary(p: LatestPrediction, u: Universe) -> dict[str, Any]:
    return {
        "symbol": p.symbol,
        "data_date": p.data_date.isoformat() if p.data_date else None,
        "predicted_return_1d": p.predicted_return_1d,
        "p10": p.p10,
        "p50": p.p50,
        "p90": p.p90,
        "prob_up": _round(prob_up(p.p10, p.p50, p.p90)),
        "decile": u.decile.get(p.symbol),
        "rank": u.rank.get(p.symbol),
        "n_symbols": u.size,
        "model_type": p.model_type,
        "model_version": p.model_version,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def drivers_of(symbol: str, top: int = 5) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The model's top drivers of ``symbol``'s latest prediction, with their contributions."""
    from explanations.drivers import key_drivers

    row = from_database([symbol], with_snapshot=True).get(symbol)
    if row is None or not row.features_snapshot:
        return [], {"method": "occlusion", "available": False, "reason": "no feature snapshot"}
    features = inputs_of(symbol, row.data_timestamp, row.features_snapshot)
    found, info = key_drivers(features, row.model_type, row.model_version, top=top)
    drivers = [
        {k: d[k] for k in ("feature", "label", "value", "contribution", "direction")} for d in found
    ]
    return drivers, {k: v for k, v in info.items() if k != "model_path"}


def signal(symbol: str) -> dict[str, Any] | None:
    """The full signal of ``symbol``; None when it has no prediction from the latest day."""
    u = universe()
    p = u.predictions.get(symbol)
    if p is None:
        return None
    drivers, info = drivers_of(symbol)
    return {**summary(p, u), "prob_method": PROB_METHOD, "drivers": drivers, "drivers_info": info}


def extremes(top: int, side: str) -> dict[str, Any]:
    """The ``top`` highest (long) or lowest (short) forecasts of the latest day."""
    u = universe()
    ordered = sorted(u.predictions.values(), key=_center, reverse=(side == "long"))
    return {
        "side": side,
        "n_symbols": u.size,
        "prob_method": PROB_METHOD,
        "results": [summary(p, u) for p in ordered[:top]],
    }
