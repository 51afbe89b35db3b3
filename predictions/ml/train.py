"""Train -> calibrate -> export -> evaluate -> register, for one model kind: the live retrain.

The steps themselves live in ``predictions.ml.lifecycle`` (shared with the walk-forward);
this module strings them together for the split of ``data.Split.for_until``, writes the
metadata and registers the version.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from predictions.ml import artifacts, data
from predictions.ml.lifecycle import (
    DB,
    EARNINGS_WEIGHT,
    PARITY_ROWS,
    Exported,
    Fitted,
    Prepared,
    Rows,
    TrainOptions,
    calibrate,
    export,
    fit,
    load,
    prepare,
    resolve_source,
    score,
    select_rows,
)
from predictions.ood import fit_stats as fit_ood_stats

__all__ = [
    "DB",
    "EARNINGS_WEIGHT",
    "PARITY_ROWS",
    "TrainOptions",
    "load",
    "resolve_source",
    "select_rows",
    "train",
]

log = logging.getLogger(__name__)

ARCHITECTURE = (
    "features -> RobustScale(+NaN masks) -> Dense64 ReLU -> Dropout.3 -> Dense32 ReLU -> "
    "Dropout.2 -> Dense16 ReLU -> point x shrinkage, p50 + softplus offsets x calibration"
)


def leakage_checks(prep: Prepared, idx: np.ndarray) -> dict[str, Any]:
    """Cheap tripwires: |corr(input_t, y)| per input, and y == close(t+1)/close(t) - 1."""
    x, y = prep.x[idx], prep.ds.y[idx].astype("float64")
    corr = {}
    for j, name in enumerate(prep.inputs):
        ok = np.isfinite(x[:, j])
        if ok.sum() > 100 and np.std(x[ok, j]) > 0:
            corr[name] = round(float(np.corrcoef(x[ok, j], y[ok])[0, 1]), 4)
    top = sorted(corr.items(), key=lambda kv: -abs(kv[1]))[:5]
    worst, checked = target_recomputation(prep, idx)
    return {
        "max_abs_feature_target_corr": max((abs(v) for v in corr.values()), default=None),
        "top_feature_target_corr": dict(top),
        "target_recomputed_max_abs_diff": worst,
        "target_rows_checked": checked,
    }


def target_recomputation(prep: Prepared, idx: np.ndarray) -> tuple[float, int]:
    """Max |y - (close h days later / close - 1)| recomputed from the panel for 2,000 sampled
    rows (h = the model's horizon in trading days, 1 for the normal/earnings models)."""
    ds, panel = prep.ds, prep.panel
    h = data.horizon_of(prep.kind)
    rng = np.random.default_rng(0)
    sample = rng.choice(idx, size=min(2000, idx.size), replace=False) if idx.size else idx
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    pdates = np.asarray(panel.dates, dtype="datetime64[D]")
    worst = 0.0
    for i in sample:
        r = row_of[str(ds.tickers[i])]
        c = int(np.searchsorted(pdates, np.datetime64(ds.dates[i], "D")))
        if c + h < pdates.size and np.isfinite(panel.close[r, c + h]):
            expected = panel.close[r, c + h] / panel.close[r, c] - 1
            worst = max(worst, abs(float(expected) - float(ds.y[i])))
    return worst, int(sample.size)


def embargo_check(prep: Prepared, rows: Rows, split: data.Split) -> dict[str, Any]:
    """The last target day of the training and validation rows (close of t+h), which must lie
    before the next part starts: overlapping h-day targets may not reach into it."""
    pdates = np.asarray(prep.panel.dates, dtype="datetime64[D]")
    h = data.horizon_of(prep.kind)

    def last_target(idx: np.ndarray) -> str | None:
        if idx.size == 0:
            return None
        cols = np.searchsorted(pdates, np.asarray(prep.ds.dates[idx]).astype("datetime64[D]"))
        return str(pdates[min(int(cols.max()) + h, pdates.size - 1)])

    train_last, val_last = last_target(rows.train), last_target(rows.val)
    return {
        "horizon_days": h,
        "train_last_target_day": train_last,
        "validation_start": split.val_start.isoformat(),
        "validation_last_target_day": val_last,
        "test_start": split.test_start.isoformat(),
        "ok": (train_last or "") < split.val_start.isoformat()
        and (val_last or "") < split.test_start.isoformat(),
    }


def build_metadata(
    opts: TrainOptions,
    prep: Prepared,
    rows: Rows,
    fitted: Fitted,
    calib: dict[str, Any],
    result: dict[str, Any],
) -> dict[str, Any]:
    """metadata.json: the contract keys (docs/contracts.md) and how the model was made."""
    window, version, exported = result["window"], result["version"], result["exported"]
    prices_sha = (
        artifacts.panel_sha256(prep.panel)
        if prep.prices == DB
        else artifacts.file_sha256(prep.prices)  # type: ignore[arg-type]
    )
    return {
        "kind": opts.kind,
        "version": version,
        "model_type": data.MODEL_TYPES[opts.kind],
        "features": prep.inputs,
        "stored_features": prep.features,
        "input_scheme": opts.input_scheme(),
        "feature_set": opts.features(),
        "booster_target": opts.booster(),
        "input_names": "stored features raw; xs_rank:<f> = per-day percentile rank of f among "
        "all symbols of that day, in [-0.5, 0.5] (predictions.ml.inputs)",
        "input_name": "features",
        "outputs": {"point": [None, 1], "quantiles": [None, 3]},
        "quantile_levels": [0.1, 0.5, 0.9],
        "training_window": window,
        "split": "time split: train < validation year < test (no shuffling across time)",
        "prices_file": str(prep.prices),
        "prices_sha256": prices_sha,
        "data_fingerprint": artifacts.data_fingerprint(prices_sha, prep.inputs, window),
        "rows": row_counts(prep, rows),
        "sample_weighting": (
            {"earnings_day": EARNINGS_WEIGHT, "normal_day": 1.0, "normal_ratio": opts.normal_ratio}
            if opts.kind == "earnings"
            else {"subsampled_from": rows.train_pool}
        ),
        "trained_symbols": sorted(np.unique(prep.ds.tickers[rows.train]).tolist()),
        **target_description(opts.kind),
        "point_target": opts.point_target(),
        "point_model": point_model_metadata(fitted),
        "target_winsorized_for_training": list(fitted.winsor),
        "training": fitted.info,
        "metrics": result["metrics"],
        "parity": exported.parity,
        "calibration": calib,
        "sigma_method": "(p90 - p10) / (2 * 1.2815516), normal-equivalent sigma of [p10, p90]",
        "uncertainty_method": "quantile_conformal",
        "leakage_checks": all_leakage_checks(prep, rows, result["split"]),
        "architecture": ARCHITECTURE,
        "ood": fit_ood_stats(prep.x[rows.train], prep.x[rows.val], seed=opts.seed),  # issue 14
        "lightgbm": {"file": artifacts.LIGHTGBM, "best_iteration": fitted.booster.best_iteration},
        "timings_s": result["timings_s"],
        "created_at": datetime.now(UTC).isoformat(),
        "seed": opts.seed,
        **{k: v for k, v in opts.extra_metadata.items() if k != "version"},
    }


def point_model_metadata(fitted: Fitted) -> dict[str, Any]:
    """How ``point`` is made: the network alone, or with the LightGBM booster in the graph."""
    if fitted.blend is None:
        return {"point_model": "network", "formula": "point = the network's shrunk point head"}
    return {**fitted.blend, "lightgbm_in_graph": bool(fitted.blend["lightgbm_coefficient"])}


def all_leakage_checks(prep: Prepared, rows: Rows, split: data.Split) -> dict[str, Any]:
    return {
        "validation": leakage_checks(prep, rows.val),
        "test": leakage_checks(prep, rows.test),
        "embargo": embargo_check(prep, rows, split),
    }


def target_description(kind: str) -> dict[str, Any]:
    h = data.horizon_of(kind)
    text = "next-day return close(t)->close(t+1)"
    if h > 1:
        text = f"{h}-trading-day return close(t)->close(t+h), h = {h}"
    return {"horizon_days": h, "target": text}


def row_counts(prep: Prepared, rows: Rows) -> dict[str, Any]:
    return {
        "train": int(rows.train.size),
        "train_earnings_day": int(np.count_nonzero(rows.weights > 1)),
        "validation": int(rows.val.size),
        "validation_for_early_stopping": int(rows.val_fit.size),
        "test": int(rows.test.size),
        "dataset": data.summary(prep.ds),
    }


def evaluate_parts(prep: Prepared, rows: Rows, exported: Exported) -> dict[str, Any]:
    """Validation and test figures of the exported graph."""
    ds, panel = prep.ds, prep.panel
    return {
        part: score(ds, panel, idx, prep.x[idx], exported)
        for part, idx in (("validation", rows.val), ("test", rows.test))
    }


def train(
    opts: TrainOptions, *, activate: bool = False, loaded: tuple[Any, Any] | None = None
) -> dict[str, Any]:
    """Returns {"kind", "version", "status", "metrics", "artifact_path", ...}."""
    from predictions.ml import registry

    t0 = time.monotonic()
    prep = prepare(opts, loaded)
    until = min(opts.until, prep.last_day) if opts.until else prep.last_day
    split = data.Split.for_until(until)
    rows = select_rows(prep.ds, opts.kind, split, opts)
    fitted = fit(prep, rows, opts)
    calib = calibrate(fitted, prep, rows, opts.point_head())
    version = opts.extra_metadata.get("version") or artifacts.new_version(opts.kind)
    exported = export(fitted, prep, rows, artifacts.artifact_dir(opts.kind, version))
    result_metrics = evaluate_parts(prep, rows, exported)
    window = {**split.as_dict(), "data_first_date": str(np.min(prep.ds.dates)), "until": str(until)}
    timings = {
        "data": round(prep.seconds, 1),
        "fit": round(fitted.seconds, 1),
        "total": round(time.monotonic() - t0, 1),
    }
    parts = {"window": window, "version": version, "exported": exported, "split": split}
    metadata = build_metadata(
        opts, prep, rows, fitted, calib, {**parts, "metrics": result_metrics, "timings_s": timings}
    )
    artifacts.write_metadata(exported.directory, metadata)
    mv = registry.register(
        opts.kind,
        version,
        str(exported.directory),
        metrics=result_metrics,
        metadata=metadata,
        activate=activate,
        note="trained by predictions.ml.train",
    )
    calib_keys = ["lower_scale", "upper_scale", "point_scale"]
    calib_keys += ["raw_coverage_validation", "calibrated_coverage_validation"]
    return {
        "kind": opts.kind,
        "version": version,
        "status": mv.status,
        "artifact_path": str(exported.directory),
        "training_window": window,
        "calibration": {k: calib[k] for k in calib_keys},
        "parity_max_abs_diff": exported.parity["max_abs_diff"],
        "point_model": metadata["point_model"],
        "rows": metadata["rows"],
        "metrics": result_metrics,
        "timings_s": timings,
    }
