"""Online calibration of the p10/p90 interval per model kind from realised outcomes.

The offline calibration (inside the ONNX graph) is fitted once on the validation year; when
volatility shifts, its 80% interval drifts. Here each kind's interval is rescaled around p50:

    p10' = p50 - s * (p50 - p10),   p90' = p50 + s * (p90 - p50)

``s`` is adaptive conformal inference (Gibbs & Candes 2021) in score space. The conformity
score of a realised prediction is the smallest ``s`` whose interval holds the outcome,
``|y - p50| / (p50 - p10 or p90 - p50)`` on the unadapted interval. The served scale is the
``1 - alpha_t`` quantile of the scores of the last ``WINDOW_DAYS`` realised target days, and
``alpha_t`` follows the ACI update ``alpha_{t+1} = alpha_t + gamma * (0.2 - miss_t)`` with
``miss_t`` the day's share of outcomes outside the SERVED interval, so a run of misses widens
the next intervals beyond what the window alone says.

No look-ahead: the cycle of data day t predicts with the state as it was after the cycle of
t-1, and only afterwards folds in the outcomes whose target day is t (``update_after_realise``).
The state is a row per kind (``IntervalCalibration``); it belongs to one model version and is
reset when another version is active. A missing or corrupt state serves the offline calibration
(scale 1) and ``health()`` says so.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.enums import TYPE_OF_KIND

log = logging.getLogger(__name__)

NOMINAL_MISS = 0.2  # the [p10, p90] interval should miss 20% of outcomes
GAMMA = 0.05  # ACI step of alpha per realised day (Gibbs & Candes use 0.005-0.05 per point)
ALPHA_BOUNDS = (0.02, 0.5)
WINDOW_DAYS: dict[str, int] = {"normal": 10, "earnings": 60}
MIN_SCORES = 100  # fewer pooled scores: keep the offline calibration
EDGES = np.geomspace(1e-3, 1e3, 361)  # score histogram bins (ratio 1.039 per bin)
ADAPTED_SUFFIX = "+aci"


def adapt(quantiles: np.ndarray, scale: float) -> np.ndarray:
    """(N, 3) p10/p50/p90 rescaled around p50 by ``scale`` (monotone stays monotone)."""
    q = np.asarray(quantiles, np.float64)
    p50 = q[:, 1]
    return np.column_stack((p50 - scale * (p50 - q[:, 0]), p50, p50 + scale * (q[:, 2] - p50)))


def scores(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Conformity scores of outcomes ``y`` for intervals ``q`` (N, 3): the smallest scale whose
    rescaled interval contains y (<= 1 means inside)."""
    p50 = q[:, 1]
    low = np.maximum(p50 - q[:, 0], 1e-12)
    high = np.maximum(q[:, 2] - p50, 1e-12)
    out: np.ndarray = np.where(y >= p50, (y - p50) / high, (p50 - y) / low)
    return out


def histogram(values: np.ndarray) -> list[int]:
    clipped = np.clip(values[np.isfinite(values)], EDGES[0], EDGES[-1])
    counts, _ = np.histogram(clipped, bins=EDGES)
    return [int(c) for c in counts]


@dataclass
class Calibrator:
    """The adaptation state of one kind (pure: no database)."""

    kind: str
    model_version: str = ""
    alpha: float = NOMINAL_MISS
    days: dict[str, list[int]] = field(default_factory=dict)  # target day -> score histogram
    scales: dict[str, float] = field(default_factory=dict)  # data day -> scale served
    last_target: str = ""

    @property
    def window(self) -> int:
        return WINDOW_DAYS.get(self.kind, 20)

    def scale(self) -> float | None:
        """The scale to serve next, or None while too few outcomes are known (offline)."""
        if not self.days:
            return None
        pooled = np.sum(np.array(list(self.days.values()), dtype=np.int64), axis=0)
        total = int(pooled.sum())
        if total < MIN_SCORES:
            return None
        cumulative = np.cumsum(pooled) / total
        k = int(np.searchsorted(cumulative, 1.0 - self.alpha))
        k = min(k, len(EDGES) - 2)
        return float(math.sqrt(EDGES[k] * EDGES[k + 1]))  # geometric middle of the bin

    def update(self, target_day: str, raw_scores: np.ndarray, miss_rate: float) -> None:
        """Fold in the outcomes of ``target_day`` (raw scores: against the unadapted interval;
        miss_rate: share outside the interval that was served)."""
        self.days[target_day] = histogram(raw_scores)
        for old in sorted(self.days)[: -self.window]:
            del self.days[old]
        low, high = ALPHA_BOUNDS
        self.alpha = min(max(self.alpha + GAMMA * (NOMINAL_MISS - miss_rate), low), high)
        self.last_target = max(self.last_target, target_day)

    def remember_scale(self, data_day: str, scale: float) -> None:
        self.scales[data_day] = scale
        for old in sorted(self.scales)[: -max(self.window, 40)]:
            del self.scales[old]

    def to_state(self) -> dict[str, Any]:
        return {"days": self.days, "scales": self.scales, "last_target": self.last_target}

    @classmethod
    def from_state(cls, kind: str, model_version: str, alpha: float, state: Any) -> Calibrator:
        """Raises ValueError when the stored state is not one this module wrote."""
        if not isinstance(state, dict) or not math.isfinite(alpha):
            raise ValueError("state is not an object or alpha is not finite")
        days, scales = state.get("days"), state.get("scales")
        if not isinstance(days, dict) or not isinstance(scales, dict):
            raise ValueError("days/scales missing")
        bins = len(EDGES) - 1
        for day, counts in days.items():
            dt.date.fromisoformat(day)
            if not isinstance(counts, list) or len(counts) != bins:
                raise ValueError(f"histogram of {day} has the wrong shape")
        parsed = {str(d): float(s) for d, s in scales.items()}
        if not all(math.isfinite(s) and s > 0 for s in parsed.values()):
            raise ValueError("a stored scale is not a positive number")
        return cls(
            kind=kind,
            model_version=model_version,
            alpha=float(alpha),
            days={str(d): [int(c) for c in v] for d, v in days.items()},
            scales=parsed,
            last_target=str(state.get("last_target") or ""),
        )


@dataclass(frozen=True)
class Served:
    """What the cycle applies to one kind's quantiles."""

    scale: float | None  # None: offline calibration
    reason: str  # why (for logs and /healthz)

    def apply(self, quantiles: np.ndarray, base_method: str) -> tuple[np.ndarray, str]:
        if self.scale is None:
            return quantiles, base_method
        return adapt(quantiles, self.scale), f"{base_method or 'calibrated'}{ADAPTED_SUFFIX}"


MODEL_TYPE_OF_KIND = TYPE_OF_KIND
