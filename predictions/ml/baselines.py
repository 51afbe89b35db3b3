"""Baselines scored on the same rows as the network: zero return (naive), trailing mean, LightGBM.

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
    "num_threads": 2,
}


def trailing_mean(
    panel: Any, tickers: np.ndarray, dates: np.ndarray, window: int = TRAILING_WINDOW
):
    """Mean of the last ``window`` daily close-to-close returns up to and including day t."""
    close = np.asarray(panel.close, dtype="float64")
    ret = np.full_like(close, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ret[:, 1:] = close[:, 1:] / close[:, :-1] - 1.0
    rolled = pd.DataFrame(ret.T).rolling(window, min_periods=window).mean().to_numpy().T
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    rows = np.fromiter((row_of.get(str(t), -1) for t in tickers), dtype="int64", count=len(tickers))
    cols = np.searchsorted(
        np.asarray(panel.dates, dtype="datetime64[D]"), dates.astype("datetime64[D]")
    )
    cols = np.clip(cols, 0, close.shape[1] - 1)
    out = np.where(rows >= 0, rolled[np.maximum(rows, 0), cols], np.nan)
    return out


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
):
    import lightgbm as lgb

    params = {**LGBM_PARAMS, "seed": seed}
    train = lgb.Dataset(x_train, y_train, weight=sample_weight, feature_name=feature_names)
    val = lgb.Dataset(x_val, y_val, reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=rounds,
        valid_sets=[val],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )
    return booster


def save_lightgbm(booster: Any, path: Path) -> None:
    booster.save_model(str(path), num_iteration=booster.best_iteration or None)


def load_lightgbm(path: Path):
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))


def predict_lightgbm(booster: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(x, num_threads=2), dtype="float64")
