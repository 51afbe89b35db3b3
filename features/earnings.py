"""The 17 earnings features (placeholder: all missing until the point-in-time builder lands)."""

from __future__ import annotations

import numpy as np

from features.definitions import N_EARNINGS
from features.panel import Panel


def earnings_features(panel: Panel, sym_idx: np.ndarray, day_idx: np.ndarray) -> np.ndarray:
    """(N, 17) float32 earnings features for the rows (panel.tickers[sym_idx], dates[day_idx])."""
    return np.full((len(sym_idx), N_EARNINGS), np.nan, dtype=np.float32)
