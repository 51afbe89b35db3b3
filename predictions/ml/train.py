"""Train -> calibrate -> evaluate -> export -> register, for one model kind.

Rows (see ``data.Split``): normal model = non-earnings rows, uniformly subsampled to
``max_train_rows`` for the 10-minute budget on 2 cores; earnings model = every earnings-day row of
the training years (weight 10) plus ``normal_ratio`` x as many normal-day rows (weight 1), so the
technical part of the mapping is learnt from more days while earnings days dominate the loss.
Calibration uses validation rows of the model's own kind; the test figures use the exported ONNX
graph (what is served) on every test row of the kind.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from predictions.ml import artifacts, baselines, data, metrics
from predictions.ml.fit import FitConfig

log = logging.getLogger(__name__)

EARNINGS_WEIGHT = 10.0
PARITY_ROWS = 4000


@dataclass
class TrainOptions:
    kind: str
    prices: Path | str | None = None  # a price file, "db", or None = configured source
    until: date | None = None
    seed: int = 42
    max_train_rows: int | None = 400_000
    max_val_rows: int | None = 150_000
    normal_ratio: float = 2.0
    epochs: int | None = None  # overrides the kind's default epoch count (tests, quick runs)
    fit: FitConfig | None = None
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    def fit_config(self) -> FitConfig:
        if self.fit is not None:
            config = self.fit
        elif self.kind == "earnings":
            config = FitConfig(epochs=60, batch_size=128, patience=6, seed=self.seed)
        else:
            config = FitConfig(epochs=12, batch_size=512, patience=3, seed=self.seed)
        return replace(config, epochs=self.epochs) if self.epochs else config


DB = "db"  # price source: the daily PriceBars instead of a file


def resolve_source(prices: Path | str | None) -> Path | str:
    """A price file, or ``DB``; None means the configured training source."""
    if prices is None:
        return DB if settings.TRAINING_DATA_SOURCE == DB else Path(settings.TRAINING_PRICES_FILE)
    return DB if str(prices) == DB else Path(prices)


def load(prices: Path | str, until: date | None, start: date | None = None):
    """Panel + Dataset through the feature engine's shared training/serving code path."""
    from features.dataset import build_dataset
    from features.panel import Panel

    if prices == DB:
        panel = Panel.from_db(start=start, end=until)
    else:
        panel = Panel.from_csv(prices, start=start, end=until)
    return panel, build_dataset(panel)


def select_rows(ds: data.DatasetLike, kind: str, split: data.Split, opts: TrainOptions):
    parts = data.part_masks(ds, split)
    own = data.kind_rows(ds, kind)
    if kind == "normal":
        train_idx = data.subsample(parts["train"] & own, opts.max_train_rows, opts.seed)
        weights = np.ones(train_idx.size, dtype="float32")
    else:
        earn = np.flatnonzero(parts["train"] & own)
        extra = round(opts.normal_ratio * earn.size)
        normal = data.subsample(parts["train"] & ~own, extra, opts.seed)
        train_idx = np.concatenate([earn, normal])
        weights = np.r_[np.full(earn.size, EARNINGS_WEIGHT), np.ones(normal.size)].astype("float32")
    val_idx = np.flatnonzero(parts["val"] & own)
    val_fit_idx = data.subsample(parts["val"] & own, opts.max_val_rows, opts.seed + 1)
    test_idx = np.flatnonzero(parts["test"] & own)
    return train_idx, weights, val_idx, val_fit_idx, test_idx


def leakage_checks(ds: data.DatasetLike, panel: Any, features: list[str], idx: np.ndarray):
    """Cheap tripwires: |corr(feature_t, y)| per feature, and y == close(t+1)/close(t) - 1."""
    x, y = ds.X[idx][:, : len(features)], ds.y[idx].astype("float64")
    corr = {}
    for j, name in enumerate(features):
        ok = np.isfinite(x[:, j])
        if ok.sum() > 100 and np.std(x[ok, j]) > 0:
            corr[name] = round(float(np.corrcoef(x[ok, j], y[ok])[0, 1]), 4)
    # Recompute the target from the panel for a sample of rows.
    rng = np.random.default_rng(0)
    sample = rng.choice(idx, size=min(2000, idx.size), replace=False) if idx.size else idx
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    pdates = np.asarray(panel.dates, dtype="datetime64[D]")
    worst = 0.0
    for i in sample:
        r = row_of[str(ds.tickers[i])]
        c = int(np.searchsorted(pdates, np.datetime64(ds.dates[i], "D")))
        nxt = np.flatnonzero(np.isfinite(panel.close[r, c + 1 :]))
        if nxt.size:
            expected = panel.close[r, c + 1 + nxt[0]] / panel.close[r, c] - 1
            worst = max(worst, abs(float(expected) - float(ds.y[i])))
    top = sorted(corr.items(), key=lambda kv: -abs(kv[1]))[:5]
    return {
        "max_abs_feature_target_corr": max((abs(v) for v in corr.values()), default=None),
        "top_feature_target_corr": dict(top),
        "target_recomputed_max_abs_diff": worst,
        "target_rows_checked": int(sample.size),
    }


def score(
    kind: str,
    ds: data.DatasetLike,
    panel: Any,
    idx: np.ndarray,
    session: Any,
    booster: Any,
    n_features: int,
) -> dict[str, Any]:
    """Metrics of the exported ONNX model and the baselines on rows ``idx``."""
    from predictions.ml.export import onnx_predict

    x = ds.X[idx][:, :n_features].astype("float32")
    point, quantiles = onnx_predict(session, x)
    base = {
        "trailing_mean_20d": baselines.trailing_mean(panel, ds.tickers[idx], ds.dates[idx]),
    }
    if booster is not None:
        base["lightgbm"] = baselines.predict_lightgbm(booster, x)
    return metrics.evaluate(
        ds.y[idx], ds.dates[idx].astype("datetime64[D]"), point, quantiles, baselines=base
    )


def train(opts: TrainOptions, *, activate: bool = False, loaded: tuple | None = None) -> dict:
    """Returns {"kind", "version", "status", "metrics", "artifact_path", ...}."""
    from predictions.ml import calibration, registry
    from predictions.ml.export import export_onnx, onnx_session, parity_check
    from predictions.ml.fit import fit_model, predict
    from predictions.ml.graph import set_calibration
    from predictions.ood import fit_stats as fit_ood_stats

    t0 = time.monotonic()
    kind = opts.kind
    prices = resolve_source(opts.prices)
    panel, ds = loaded or load(prices, opts.until)
    t_data = time.monotonic() - t0
    last = np.datetime64(np.asarray(ds.dates, dtype="datetime64[D]").max(), "D").item()
    until = min(opts.until, last) if opts.until else last
    split = data.Split.for_until(until)
    features = data.feature_columns(kind)
    nf = len(features)
    mask_columns = list(range(20, nf)) if kind == "earnings" else []
    train_idx, weights, val_idx, val_fit_idx, test_idx = select_rows(ds, kind, split, opts)
    if train_idx.size < 100 or val_idx.size < 20:
        raise ValueError(f"Too few rows: train {train_idx.size}, validation {val_idx.size}")

    y_train = ds.y[train_idx].astype("float64")
    lo, hi = data.winsorize_limits(y_train)
    y_train = np.clip(y_train, lo, hi)
    x_train = ds.X[train_idx][:, :nf]
    config = replace(opts.fit_config(), seed=opts.seed)
    model, fit_info = fit_model(
        x_train,
        y_train,
        ds.X[val_fit_idx][:, :nf],
        ds.y[val_fit_idx],
        mask_columns=mask_columns,
        sample_weight=weights,
        config=config,
    )
    t_fit = time.monotonic() - t0 - t_data

    # Calibrate the interval on the validation year, inside the graph.
    x_val, y_val = ds.X[val_idx][:, :nf], ds.y[val_idx]
    _, q_raw = predict(model, x_val)
    calib = calibration.tail_scales(y_val, q_raw)
    set_calibration(model, calib["lower_scale"], calib["upper_scale"])
    _, q_cal = predict(model, x_val)
    calib["calibrated_coverage_validation"] = float(
        np.mean((y_val >= q_cal[:, 0]) & (y_val <= q_cal[:, 2]))
    )

    booster = baselines.fit_lightgbm(
        x_train,
        y_train,
        ds.X[val_fit_idx][:, :nf],
        ds.y[val_fit_idx],
        feature_names=features,
        sample_weight=weights,
        seed=opts.seed,
    )

    version = opts.extra_metadata.get("version") or artifacts.new_version(kind)
    directory = artifacts.artifact_dir(kind, version)
    directory.mkdir(parents=True, exist_ok=False)
    model.save(directory / artifacts.KERAS)
    onnx_path = directory / artifacts.ONNX
    export_onnx(model, nf, onnx_path)
    baselines.save_lightgbm(booster, directory / artifacts.LIGHTGBM)
    parity_rows = data.subsample(np.isin(np.arange(len(ds.y)), test_idx), PARITY_ROWS, 7)
    if parity_rows.size == 0:
        parity_rows = val_idx[:PARITY_ROWS]
    parity = parity_check(model, onnx_path, ds.X[parity_rows][:, :nf].astype("float32"))

    session = onnx_session(onnx_path)
    saved_booster = baselines.load_lightgbm(directory / artifacts.LIGHTGBM)
    result_metrics = {
        "validation": score(kind, ds, panel, val_idx, session, saved_booster, nf),
        "test": score(kind, ds, panel, test_idx, session, saved_booster, nf),
    }
    t_total = time.monotonic() - t0
    window = {**split.as_dict(), "data_first_date": str(np.min(ds.dates)), "until": str(until)}
    # The file's bytes, or for the database the loaded arrays themselves.
    prices_sha = artifacts.panel_sha256(panel) if prices == DB else artifacts.file_sha256(prices)
    metadata = {
        "kind": kind,
        "version": version,
        "model_type": data.MODEL_TYPES[kind],
        "features": features,
        "input_name": "features",
        "outputs": {"point": [None, 1], "quantiles": [None, 3]},
        "quantile_levels": [0.1, 0.5, 0.9],
        "training_window": window,
        "split": "time split: train < validation year < test (no shuffling across time)",
        "prices_file": str(prices),
        "prices_sha256": prices_sha,
        "data_fingerprint": artifacts.data_fingerprint(prices_sha, features, window),
        "rows": {
            "train": int(train_idx.size),
            "train_earnings_day": int(np.count_nonzero(weights > 1)),
            "validation": int(val_idx.size),
            "validation_for_early_stopping": int(val_fit_idx.size),
            "test": int(test_idx.size),
            "dataset": data.summary(ds),
        },
        "sample_weighting": (
            {"earnings_day": EARNINGS_WEIGHT, "normal_day": 1.0, "normal_ratio": opts.normal_ratio}
            if kind == "earnings"
            else {
                "subsampled_from": int(
                    np.count_nonzero(data.part_masks(ds, split)["train"] & data.kind_rows(ds, kind))
                )
            }
        ),
        "trained_symbols": sorted(np.unique(ds.tickers[train_idx]).tolist()),
        "target": "next-day return close(t)->close(t+1)",
        "target_winsorized_for_training": [lo, hi],
        "training": fit_info,
        "metrics": result_metrics,
        "parity": parity,
        "calibration": calib,
        "ood": fit_ood_stats(x_train, x_val, seed=opts.seed),  # predictions.ood (issue 14)
        "sigma_method": "(p90 - p10) / (2 * 1.2815516), normal-equivalent sigma of [p10, p90]",
        "uncertainty_method": "quantile_conformal",
        "leakage_checks": {
            "validation": leakage_checks(ds, panel, features, val_idx),
            "test": leakage_checks(ds, panel, features, test_idx),
        },
        "architecture": "features -> RobustScale(+NaN masks) -> Dense64 ReLU -> Dropout.3 -> "
        "Dense32 ReLU -> Dropout.2 -> Dense16 ReLU -> point, p50 + softplus offsets x calibration",
        "lightgbm": {"file": artifacts.LIGHTGBM, "best_iteration": booster.best_iteration},
        "timings_s": {"data": round(t_data, 1), "fit": round(t_fit, 1), "total": round(t_total, 1)},
        "created_at": datetime.now(UTC).isoformat(),
        "seed": opts.seed,
        **{k: v for k, v in opts.extra_metadata.items() if k != "version"},
    }
    artifacts.write_metadata(directory, metadata)
    mv = registry.register(
        kind,
        version,
        str(directory),
        metrics=result_metrics,
        metadata=metadata,
        activate=activate,
        note="trained by predictions.ml.train",
    )
    return {
        "kind": kind,
        "version": version,
        "status": mv.status,
        "artifact_path": str(directory),
        "training_window": window,
        "calibration": {
            k: calib[k]
            for k in (
                "lower_scale",
                "upper_scale",
                "raw_coverage_validation",
                "calibrated_coverage_validation",
            )
        },
        "parity_max_abs_diff": parity["max_abs_diff"],
        "rows": metadata["rows"],
        "metrics": result_metrics,
        "timings_s": metadata["timings_s"],
    }
