"""Score a registered model (its exported ONNX graph and its LightGBM baseline) on any price file
of the shared format, including symbols it never saw.

The panel is read from ``date_from - WARMUP_DAYS`` so the 252-day features are defined from
``date_from`` on, and up to ``date_to + a few days`` so the target of ``date_to`` is known.
Rows are those the model serves (routing rule): earnings-day rows for ``earnings``, the others
for ``normal``, every row for the horizon kinds (scored on their h-day return).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from predictions.ml import artifacts, data, inputs
from predictions.ml.baselines import load_lightgbm
from predictions.models import ModelVersion

# Calendar days of history loaded before --from: > 253 trading days for the longest window, and
# more so exponential averages (MACD, RSI, ATR) have forgotten their start value.
WARMUP_DAYS = 750


def load_window(
    prices: Path, date_from: date | None, date_to: date | None, horizon: int = 1
) -> tuple[Any, Any]:
    from features.dataset import build_dataset
    from features.panel import Panel

    start = date_from - timedelta(days=WARMUP_DAYS) if date_from else None
    # Enough calendar days after date_to for the target h trading days later.
    end = date_to + timedelta(days=7 + 2 * horizon) if date_to else None
    panel = Panel.from_csv(prices, start=start, end=end)
    return panel, build_dataset(panel, start=date_from, end=date_to)


def evaluate_version(
    mv: ModelVersion,
    prices: Path | str,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    loaded: tuple[Any, Any] | None = None,
) -> dict[str, Any]:
    from features.definitions import ALL_FEATURES
    from predictions.ml.export import onnx_session
    from predictions.ml.lifecycle import Exported, booster_scale, row_sectors, score

    directory = Path(mv.artifact_path)
    meta = artifacts.read_metadata(directory)
    horizon = data.horizon_of(mv.kind)
    panel, ds = loaded or load_window(Path(prices), date_from, date_to, horizon)
    if horizon > 1:  # a horizon model is scored on its own h-day target
        ds = data.with_horizon(ds, panel, horizon)
    # Inputs of every row of each day (cross-sectional inputs rank against the whole day).
    names = meta["features"]
    days = inputs.day_ids_of(ds.dates)
    x = inputs.model_inputs(ds.X, ALL_FEATURES, names, days, sectors=row_sectors(ds, names))
    dates = np.asarray(ds.dates, dtype="datetime64[D]")
    rows = data.kind_rows(ds, mv.kind) & np.isfinite(ds.y)
    if date_from:
        rows &= dates >= data.day(date_from)
    if date_to:
        rows &= dates <= data.day(date_to)
    idx = np.flatnonzero(rows)
    booster_path = directory / artifacts.LIGHTGBM
    booster = load_lightgbm(booster_path) if booster_path.exists() else None
    scale = booster_scale(meta.get("booster_target"), meta.get("point_model"))
    exported = Exported(directory, onnx_session(directory / artifacts.ONNX), booster, {}, scale)
    result = score(ds, panel, idx, x[idx], exported)
    trained_on = set(meta.get("trained_symbols", []))
    unseen = (
        idx[~np.isin(ds.tickers[idx].astype(str), sorted(trained_on))] if trained_on else idx[:0]
    )
    # The same figures on the listings the model never saw in training (empty when none).
    result["unseen_listings"] = score(ds, panel, unseen, x[unseen], exported)
    return {
        "kind": mv.kind,
        "version": mv.version,
        "model_type": meta.get("model_type"),
        "prices": str(prices),
        "from": str(dates[idx].min()) if idx.size else None,
        "to": str(dates[idx].max()) if idx.size else None,
        "symbols": int(np.unique(ds.tickers[idx]).size),
        "symbols_unseen_in_training": (
            len(set(np.unique(ds.tickers[idx]).tolist()) - trained_on) if trained_on else None
        ),
        **result,
    }
