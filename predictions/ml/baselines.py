"""Baselines scored on the same rows as the network: zero return (naive), trailing mean, LightGBM,
momentum (trailing returns, for the multi-horizon models).

LightGBM uses the same raw features (it handles NaN natively) and the L1 objective, i.e. it
estimates the conditional median, the MAE-optimal forecast: a deliberately strong baseline.
Its booster is saved beside the network (``lightgbm.txt``) so ``evaluate`` can score it on any file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TRAILING_WINDOW = 20
LGBM_PARAMS: dict[str, Any] = {
    "objective": "l1",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,  # explicit: two cores are shared by every process; seeded below
}


RISKMETRICS_LAMBDA = 0.94
Z_90 = 1.2815516  # standard normal 90% quantile


def daily_returns(panel: Any) -> np.ndarray:
    """(S, D) close-to-close returns, NaN where either close is missing."""
    close = np.asarray(panel.close, dtype="float64")
    ret = np.full_like(close, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ret[:, 1:] = close[:, 1:] / close[:, :-1] - 1.0
    return ret


def panel_lookup(
    panel: Any, values: np.ndarray, tickers: np.ndarray, dates: np.ndarray
) -> np.ndarray:
    """``values`` (S, D) of the panel at each (ticker, date) row; NaN for an unknown ticker."""
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    rows = np.fromiter((row_of.get(str(t), -1) for t in tickers), dtype="int64", count=len(tickers))
    cols = np.searchsorted(
        np.asarray(panel.dates, dtype="datetime64[D]"), np.asarray(dates).astype("datetime64[D]")
    )
    cols = np.clip(cols, 0, values.shape[1] - 1)
    return np.where(rows >= 0, values[np.maximum(rows, 0), cols], np.nan)


def trailing_mean(
    panel: Any, tickers: np.ndarray, dates: np.ndarray, window: int = TRAILING_WINDOW
) -> np.ndarray:
    """Mean of the last ``window`` daily close-to-close returns up to and including day t."""
    ret = daily_returns(panel)
    rolled = pd.DataFrame(ret.T).rolling(window, min_periods=window).mean().to_numpy().T
    return panel_lookup(panel, rolled, tickers, dates)


def trailing_return(
    panel: Any, tickers: np.ndarray, dates: np.ndarray, lookback: int, skip: int = 0
) -> np.ndarray:
    """Momentum: close(t - skip) / close(t - lookback) - 1 (panel columns = trading days), NaN
    where either close is missing. ``lookback=h, skip=0`` is the trailing h-day return (the
    same-horizon persistence forecast); ``lookback=252, skip=21`` the classic 12-1 momentum."""
    close = np.asarray(panel.close, dtype="float64")
    out = np.full_like(close, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, lookback:] = close[:, lookback - skip : close.shape[1] - skip] / close[:, :-lookback]
    return panel_lookup(panel, out - 1.0, tickers, dates)


def ewma_sigma(
    panel: Any, tickers: np.ndarray, dates: np.ndarray, lam: float = RISKMETRICS_LAMBDA
) -> np.ndarray:
    """RiskMetrics volatility after the close of t: var_t = lam var_{t-1} + (1 - lam) r_t^2,
    using returns through day t only (a missing return leaves the variance unchanged)."""
    ret = daily_returns(panel)
    var = np.full(ret.shape[0], np.nan)
    out = np.full_like(ret, np.nan)
    for j in range(ret.shape[1]):
        r2 = ret[:, j] ** 2
        fresh = np.isnan(var) & np.isfinite(r2)
        var = np.where(fresh, r2, var)
        var = np.where(np.isfinite(r2) & ~fresh, lam * var + (1 - lam) * r2, var)
        out[:, j] = var
    sigma: np.ndarray = np.sqrt(panel_lookup(panel, out, tickers, dates))
    return sigma


def ewma_interval(sigma: np.ndarray) -> np.ndarray:
    """(N, 3) Gaussian p10, p50, p90 around a zero mean with the EWMA sigma."""
    s = np.asarray(sigma, dtype="float64")
    return np.stack([-Z_90 * s, np.zeros_like(s), Z_90 * s], axis=1)


def fit_lightgbm(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    feature_names: list[str],
    sample_weight: np.ndarray | None = None,
    seed: int = 42,
    rounds: int = 400,
    objective: str | None = None,
) -> Any:
    import lightgbm as lgb

    params = {**LGBM_PARAMS, "seed": seed, **({"objective": objective} if objective else {})}
    train = lgb.Dataset(x_train, y_train, weight=sample_weight, feature_name=feature_names)
    val = lgb.Dataset(x_val, y_val, reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=rounds,
        valid_sets=[val],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )


def save_lightgbm(booster: Any, path: Path) -> None:
    booster.save_model(str(path), num_iteration=booster.best_iteration or None)


def load_lightgbm(path: Path) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))


def predict_lightgbm(booster: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(x, num_threads=1), dtype="float64")
