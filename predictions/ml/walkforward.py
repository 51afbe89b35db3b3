"""Walk-forward evaluation: for each test year Y, retrain on every day before Y-1 (expanding
window), calibrate on Y-1, export to ONNX and predict Y with the exported graph, through the
SAME lifecycle steps as the live retrain (``predictions.ml.lifecycle``). Only the split differs:
``Split(train_end = 31 Dec Y-2, validation = Y-1, test = Y)``, the live retrain's split moved
to each year. No row of the test year reaches training, early stopping or calibration.

The multi-horizon kinds (5/20 trading days) run the same way with their h-day target and an
h-day embargo at each boundary (``data.part_masks``).

Baselines on the same rows: zero return; reversal (-return_1d, rank IC only); momentum (the
trailing h-day return, and the 12-1 month return); the LightGBM
fitted in the same step on the same inputs; and a RiskMetrics EWMA-volatility Gaussian interval
(lambda 0.94, scaled by sqrt(h)) for coverage, width and pinball loss.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictions.ml import baselines, data, metrics, wf_store
from predictions.ml.lifecycle import (
    MAX_TRAIN_ROWS,
    Prepared,
    TrainOptions,
    calibrate,
    export,
    fit,
    predict_rows,
    prepare,
    select_rows,
)

log = logging.getLogger(__name__)

SUMMARY_FROM_YEAR = 2023  # the final test years: reported, never used for choices
DEFAULT_FIRST_YEAR = 2012
SUMMARY_KEYS = (
    "rank_ic", "icir", "mae_ratio", "coverage", "width_ratio_vs_ewma", "pinball_ratio_vs_ewma",
)  # fmt: skip


@dataclass(frozen=True)
class WalkForwardOptions:
    kind: str
    prices: Path | str | None = None
    first_year: int = DEFAULT_FIRST_YEAR
    to: date | None = None
    max_train_rows: int | None = MAX_TRAIN_ROWS
    seed: int = 42
    epochs: int | None = None
    scheme: str | None = None
    target: str | None = None
    point_model: str | None = None
    feature_set: str | None = None
    booster_target: str | None = None
    store: bool = True

    def train_options(self) -> TrainOptions:
        return TrainOptions(
            kind=self.kind,
            prices=self.prices,
            until=self.to,
            seed=self.seed,
            max_train_rows=self.max_train_rows,
            epochs=self.epochs,
            scheme=self.scheme,
            target=self.target,
            point_model=self.point_model,
            feature_set=self.feature_set,
            booster_target=self.booster_target,
        )


def split_for_year(year: int, last_day: date) -> data.Split:
    return data.Split(
        train_end=date(year - 2, 12, 31),
        val_start=date(year - 1, 1, 1),
        val_end=date(year - 1, 12, 31),
        test_start=date(year, 1, 1),
        test_end=min(date(year, 12, 31), last_day),
    )


def run_year(year: int, prep: Prepared, opts: TrainOptions, workdir: Path) -> dict[str, Any] | None:
    """Load is done once; fit -> calibrate -> export -> predict for one test year.
    Returns the test rows and their predictions, or None when the year has too few rows."""
    split = split_for_year(year, prep.last_day)
    try:
        rows = select_rows(prep.ds, opts.kind, split, opts)
    except ValueError as exc:
        log.warning("walk-forward %s: skipped (%s)", year, exc)
        return None
    if rows.test.size == 0:
        return None
    t0 = time.monotonic()
    fitted = fit(prep, rows, opts)
    calib = calibrate(fitted, prep, rows, opts.point_head())
    exported = export(fitted, prep, rows, workdir / str(year))
    pred = predict_rows(exported, prep.x[rows.test])
    return {
        "year": year,
        "split": split.as_dict(),
        "rows": rows,
        "pred": pred,
        "calibration": {k: calib[k] for k in ("lower_scale", "upper_scale", "point_scale")},
        "point_model": point_model_of(fitted.blend),
        "train_rows": int(rows.train.size),
        "seconds": round(time.monotonic() - t0, 1),
    }


def row_baselines(prep: Prepared) -> dict[str, np.ndarray]:
    """Per-row baseline inputs of every dataset row, for the model's horizon h: the EWMA sigma
    scaled to h days (sqrt(h), i.i.d. returns), the trailing h-day return (momentum at the
    same horizon) and the 12-1 month momentum (close(t-21) / close(t-252) - 1)."""
    ds, panel, h = prep.ds, prep.panel, data.horizon_of(prep.kind)
    return {
        "ewma_sigma": baselines.ewma_sigma(panel, ds.tickers, ds.dates) * np.sqrt(h),
        "momentum": baselines.trailing_return(panel, ds.tickers, ds.dates, h),
        "momentum_12_1": baselines.trailing_return(panel, ds.tickers, ds.dates, 252, 21),
    }


def frame_of(out: dict[str, Any], prep: Prepared, base: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-row predictions of one test year (the file another engineer's backtest reads)."""
    idx, pred, ds = out["rows"].test, out["pred"], prep.ds
    q = np.asarray(pred["quantiles"], dtype="float64")
    reversal_col = data.feature_columns("normal").index("return_1d")
    return pd.DataFrame(
        {
            "symbol": ds.tickers[idx].astype(str),
            "date": np.asarray(ds.dates[idx]).astype("datetime64[D]").astype(str),
            "year": out["year"],
            "model": prep.kind,
            "point": np.asarray(pred["point"], dtype="float64"),
            "p10": q[:, 0],
            "p50": q[:, 1],
            "p90": q[:, 2],
            "realised": ds.y[idx].astype("float64"),
            "lightgbm": np.asarray(pred.get("lightgbm", np.full(idx.size, np.nan))),
            "reversal": -ds.X[idx][:, reversal_col].astype("float64"),
            "ewma_sigma": base["ewma_sigma"][idx],
            "horizon": data.horizon_of(prep.kind),
            "momentum": base["momentum"][idx],
            "momentum_12_1": base["momentum_12_1"][idx],
        }
    )


def walk_forward(wf: WalkForwardOptions, loaded: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """One JSON-able result: ``years`` (model and baselines per test year), ``summary`` over
    test years >= 2023, the configuration, timings and the machine."""
    from core.machine import machine_info

    t0 = time.monotonic()
    opts = wf.train_options()
    prep = prepare(opts, loaded)
    base = row_baselines(prep)
    frames, years = [], []
    with tempfile.TemporaryDirectory(prefix="walkforward-") as tmp:
        for year in range(wf.first_year, prep.last_day.year + 1):
            out = run_year(year, prep, opts, Path(tmp))
            if out is None:
                continue
            frame = frame_of(out, prep, base)
            frames.append(frame)
            years.append({**year_figures(frame), **run_info(out)})
            log.info("walk-forward %s %s: %s", wf.kind, year, years[-1])
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    result = {
        "model": wf.kind,
        "years": years,
        "summary": summary(rows),
        "config": config_of(wf, opts, prep),
        "seconds": round(time.monotonic() - t0, 1),
        "machine": machine_info(),
    }
    if wf.store:
        result["predictions_file"] = str(wf_store.save(wf.kind, result, rows))
    return result


def run_info(out: dict[str, Any]) -> dict[str, Any]:
    return {
        "train_rows": out["train_rows"],
        "calibration": out["calibration"],
        "point_model": out["point_model"],
        "window": out["split"],
        "seconds": out["seconds"],
    }


def point_model_of(blend: dict[str, Any] | None) -> dict[str, Any]:
    """The served point head of one test year's model (weights chosen on its validation year)."""
    if blend is None:
        return {"point_model": "network"}
    keys = (
        "point_model", "lightgbm_weight", "lightgbm_rescale", "point_scale",
        "network_coefficient", "lightgbm_coefficient", "validation_rank_ic", "lightgbm_trees",
    )  # fmt: skip
    return {k: blend[k] for k in keys}


def config_of(wf: WalkForwardOptions, opts: TrainOptions, prep: Prepared) -> dict[str, Any]:
    return {
        "prices": str(prep.prices),
        "first_year": wf.first_year,
        "to": str(prep.last_day),
        "max_train_rows": wf.max_train_rows,
        "subsampling": "uniform random training rows per test year (seeded)",
        "seed": wf.seed,
        "epochs": opts.fit_config().epochs,
        "input_scheme": opts.input_scheme(),
        "feature_set": opts.features(),
        "booster_target": opts.booster(),
        "point_target": opts.point_target(),
        "point_model": opts.point_head(),
        "inputs": prep.inputs,
        "horizon_days": data.horizon_of(prep.kind),
        "summary_from_year": SUMMARY_FROM_YEAR,
    }


def skill(pred: np.ndarray, y: np.ndarray, dates: np.ndarray) -> dict[str, Any]:
    """Point-forecast figures: MAE against zero, IC, daily rank IC and its ICIR, hit rate."""
    ics = metrics.daily_rank_ics(pred, y, dates)
    mae, naive = metrics.mae(pred, y), metrics.mae(np.zeros_like(y), y)
    return {
        "mae": _r(mae),
        "mae_naive": _r(naive),
        "mae_ratio": _r(mae / naive if naive > 0 else None),
        "ic": _r(metrics.pearson(pred, y)),
        "rank_ic": _r(float(np.mean(ics)) if ics.size else None),
        "icir": _r(metrics.icir(ics)),
        "hit_rate": _r(metrics.hit_rate(pred, y)),
    }


def interval(q: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    return {
        "coverage_p10_p90": _r(float(np.mean((y >= q[:, 0]) & (y <= q[:, 2])))),
        "mean_width_p10_p90": _r(float(np.mean(q[:, 2] - q[:, 0]))),
        "pinball": _r(metrics.pinball(q, y)),
    }


def year_figures(frame: pd.DataFrame) -> dict[str, Any]:
    """The model's figures and the baselines' on the same rows (one test year, or pooled)."""
    y = frame["realised"].to_numpy("float64")
    dates = frame["date"].to_numpy()
    point = frame["point"].to_numpy("float64")
    q = frame[["p10", "p50", "p90"]].to_numpy("float64")
    ewma = baselines.ewma_interval(frame["ewma_sigma"].to_numpy("float64"))
    ok = np.isfinite(ewma).all(axis=1)  # the EWMA needs one past return
    zero = np.zeros_like(y)
    reversal = skill(np.nan_to_num(frame["reversal"].to_numpy("float64")), y, dates)
    lgbm = frame["lightgbm"].to_numpy("float64")
    base = {
        "zero": {
            **{k: v for k, v in skill(zero, y, dates).items() if k.startswith("mae")},
            "pinball": _r(metrics.pinball(np.zeros((len(y), 3)), y)),
        },
        "reversal": {"rank_ic": reversal["rank_ic"], "icir": reversal["icir"]},
        **momentum_figures(frame, y, dates),
        "lightgbm": skill(lgbm, y, dates) if np.isfinite(lgbm).all() else None,
        "ewma_vol": {**interval(ewma[ok], y[ok]), "rows": int(ok.sum())},
    }
    return {
        "year": int(frame["year"].iloc[0]),
        "n": len(y),
        **skill(point, y, dates),
        **interval(q, y),
        "baselines": base,
    }


def momentum_figures(frame: pd.DataFrame, y: np.ndarray, dates: np.ndarray) -> dict[str, Any]:
    """The momentum baselines' skill (rank IC, ICIR, MAE ratio, hit rate) on the same rows; a
    row without the needed history counts as a zero forecast (older files have no columns)."""
    keys = ("rank_ic", "icir", "mae_ratio", "hit_rate")
    out: dict[str, Any] = {}
    for name in ("momentum", "momentum_12_1"):
        if name in frame:
            fig = skill(np.nan_to_num(frame[name].to_numpy("float64")), y, dates)
            out[name] = {k: fig[k] for k in keys}
    return out


def summary(rows: pd.DataFrame) -> dict[str, Any]:
    """Pooled over every row of the test years >= SUMMARY_FROM_YEAR."""
    part = rows[rows["year"] >= SUMMARY_FROM_YEAR] if len(rows) else rows
    if len(part) == 0:
        empty = dict.fromkeys(SUMMARY_KEYS)
        return {"years": [], "n": 0, **empty, "note": f"no test year >= {SUMMARY_FROM_YEAR}"}
    fig = year_figures(part)
    ewma = fig["baselines"]["ewma_vol"]
    return {
        "years": sorted(int(v) for v in part["year"].unique()),
        "n": fig["n"],
        "rank_ic": fig["rank_ic"],
        "icir": fig["icir"],
        "mae_ratio": fig["mae_ratio"],
        "coverage": fig["coverage_p10_p90"],
        "width_ratio_vs_ewma": _ratio(fig["mean_width_p10_p90"], ewma["mean_width_p10_p90"]),
        "pinball_ratio_vs_ewma": _ratio(fig["pinball"], ewma["pinball"]),
        "hit_rate": fig["hit_rate"],
        "baselines": fig["baselines"],
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else _r(a / b)


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)
