"""The named steps of one model's training lifecycle: load -> select rows -> fit -> calibrate ->
export -> evaluate (-> register, in ``train``). ``train.train`` (the live and weekly retrain) and
``walkforward`` (one retrain per test year) call exactly these functions, so the walk-forward
figures are those of the code that produces the served models.

Rows (see ``data.Split``): normal model = non-earnings rows, uniformly subsampled to
``max_train_rows``; horizon models (5/20 trading days) = every row, likewise subsampled, with
the h-day target and an h-day embargo at each boundary; earnings model = every earnings-day
training row (weight 10) plus ``normal_ratio`` x as many normal-day rows (weight 1).
Calibration uses validation rows of the model's own kind; scores use the exported ONNX graph
(what is served).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from predictions.ml import baselines, data, inputs, metrics
from predictions.ml.fit import FitConfig

EARNINGS_WEIGHT = 10.0
PARITY_ROWS = 4000
DB = "db"  # price source: the daily PriceBars instead of a file
# Model configuration per kind, chosen on test years 2019-2022 only by rules written before the
# runs (docs/models.md "Selection rule" sections). The normal and 20-day models rank their inputs
# across the day's symbols, the normal one also reads its sector's move ("Sector-relative
# inputs?"); the earnings and 5-day models keep the raw inputs.
DEFAULT_SCHEME = {
    "normal": "xs_rank_sector",
    "earnings": "raw",
    "horizon_5d": "raw",
    "horizon_20d": "xs_rank",
}
DEFAULT_TARGET = {"normal": "raw", "earnings": "raw"}
# What makes the served point forecast (``ensemble.POINT_MODELS``): the network alone, the
# LightGBM booster inside the same ONNX graph, or a blend of both: the normal model blends,
# the 20-day model serves the booster (with the price-action features; docs/models.md
# "Price-action inputs and a rank-target booster").
DEFAULT_POINT_MODEL: dict[str, str] = {"normal": "blend", "horizon_20d": "lightgbm"}
# Which stored features a kind reads (``data.FEATURE_SETS``); "base" unless listed.
DEFAULT_FEATURE_SET: dict[str, str] = {"normal": "price", "horizon_20d": "price"}
# What the LightGBM booster learns: "point" = the point head's target (in return units), or
# "xs_rank" = the per-day percentile rank of the return among the day's symbols (Qlib's
# CSRankNorm label; the blend rescales the booster to the network's spread). "point" unless listed.
DEFAULT_BOOSTER_TARGET: dict[str, str] = {"normal": "xs_rank"}
BOOSTER_TARGETS = ("point", "xs_rank")
# Training rows of every retrain (live, weekly and each walk-forward year): a uniform seeded
# subsample, so the walk-forward measures the row count that is served (docs/models.md
# "Walk-forward row count").
MAX_TRAIN_ROWS = 400_000
# Largest point shrinkage the calibrate step may choose (``calibration.point_shrinkage``); 1.5
# unless listed. These models never amplify their forecast: a scale above 1 chosen on one
# validation year carried over poorly (docs/models.md "Earnings point scale capped at 1?" and
# "The same cap for the 5- and 20-day models?").
MAX_POINT_SCALE: dict[str, float] = {"earnings": 1.0, "horizon_5d": 1.0, "horizon_20d": 1.0}
TARGETS = ("raw", "idiosyncratic")


@dataclass
class TrainOptions:
    kind: str
    prices: Path | str | None = None  # a price file, "db", or None = configured source
    until: date | None = None
    seed: int = 42
    max_train_rows: int | None = MAX_TRAIN_ROWS
    max_val_rows: int | None = 150_000
    normal_ratio: float = 2.0
    epochs: int | None = None  # overrides the kind's default epoch count (tests, quick runs)
    fit: FitConfig | None = None
    scheme: str | None = None  # model inputs (``inputs.SCHEMES``); None = the kind's default
    target: str | None = None  # point-head target (``TARGETS``); None = the kind's default
    point_model: str | None = None  # ``ensemble.POINT_MODELS``; None = the kind's default
    feature_set: str | None = None  # ``data.FEATURE_SETS``; None = the kind's default
    booster_target: str | None = None  # ``BOOSTER_TARGETS``; None = the kind's default
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    def fit_config(self) -> FitConfig:
        if self.fit is not None:
            config = self.fit
        elif self.kind == "earnings":
            config = FitConfig(epochs=60, batch_size=128, patience=6, seed=self.seed)
        else:
            config = FitConfig(epochs=12, batch_size=512, patience=3, seed=self.seed)
        return replace(config, epochs=self.epochs) if self.epochs else config

    def input_scheme(self) -> str:
        return self.scheme or DEFAULT_SCHEME.get(self.kind, "raw")

    def features(self) -> str:
        return self.feature_set or DEFAULT_FEATURE_SET.get(self.kind, "base")

    def booster(self) -> str:
        value = self.booster_target or DEFAULT_BOOSTER_TARGET.get(self.kind, "point")
        if value not in BOOSTER_TARGETS:
            raise ValueError(f"Unknown booster target {value!r}; expected one of {BOOSTER_TARGETS}")
        return value

    def point_target(self) -> str:
        return self.target or DEFAULT_TARGET.get(self.kind, "raw")

    def point_head(self) -> str:
        from predictions.ml.ensemble import check_point_model

        return check_point_model(self.point_model or DEFAULT_POINT_MODEL.get(self.kind, "network"))

    @property
    def horizon(self) -> int:
        return data.horizon_of(self.kind)


@dataclass
class Prepared:
    """The loaded data and the model-input matrix of every dataset row (load step)."""

    kind: str
    prices: Path | str
    panel: Any
    ds: data.DatasetLike
    features: list[str]  # stored features the model reads
    inputs: list[str]  # ONNX input columns (stored features + derived inputs)
    x: np.ndarray  # (N, len(inputs)) float32 for every row of ``ds``
    seconds: float = 0.0

    @property
    def last_day(self) -> date:
        value: date = np.asarray(self.ds.dates, dtype="datetime64[D]").max().item()
        return value


@dataclass
class Rows:
    train: np.ndarray
    weights: np.ndarray
    val: np.ndarray
    val_fit: np.ndarray  # subsample of ``val`` for early stopping
    test: np.ndarray
    train_pool: int = 0  # candidate training rows before subsampling


@dataclass
class Fitted:
    model: Any
    info: dict[str, Any]
    booster: Any
    winsor: tuple[float, float]
    seconds: float = 0.0
    blend: dict[str, Any] | None = None  # the LightGBM point head's share (``calibrate``)


@dataclass
class Exported:
    directory: Path
    session: Any
    booster: Any
    parity: dict[str, Any]
    booster_scale: float = 1.0  # booster output -> return units (rank-target boosters)


def resolve_source(prices: Path | str | None) -> Path | str:
    """A price file, or ``DB``; None means the configured training source."""
    if prices is None:
        return DB if settings.TRAINING_DATA_SOURCE == DB else Path(settings.TRAINING_PRICES_FILE)
    return DB if str(prices) == DB else Path(prices)


def load(prices: Path | str, until: date | None, start: date | None = None) -> tuple[Any, Any]:
    """Panel + Dataset through the feature engine's shared training/serving code path."""
    from features.dataset import build_dataset
    from features.panel import Panel

    if prices == DB:
        panel = Panel.from_db(start=start, end=until)
    else:
        panel = Panel.from_csv(Path(prices), start=start, end=until)
    return panel, build_dataset(panel)


def prepare(opts: TrainOptions, loaded: tuple[Any, Any] | None = None) -> Prepared:
    """Load step: data (unless ``loaded``) and the model inputs of every row, per day."""
    from features.definitions import ALL_FEATURES

    t0 = time.monotonic()
    prices = resolve_source(opts.prices)
    panel, ds = loaded or load(prices, opts.until)
    if opts.horizon > 1:  # the h-day target, from the same panel (close(t) -> close(t+h))
        ds = data.with_horizon(ds, panel, opts.horizon)
    features = data.feature_columns(opts.kind, opts.features())
    names = inputs.input_columns(features, opts.input_scheme())
    x = inputs.model_inputs(
        ds.X, ALL_FEATURES, names, inputs.day_ids_of(ds.dates), sectors=row_sectors(ds, names)
    )
    return Prepared(opts.kind, prices, panel, ds, features, names, x, time.monotonic() - t0)


def row_sectors(ds: data.DatasetLike, names: list[str]) -> np.ndarray | None:
    """Each row's sector where the inputs need it (the serving cycle reads the same table)."""
    if not inputs.needs_sectors(names):
        return None
    from ingestion.sectors import sectors_of

    return sectors_of(ds.tickers)


def select_rows(ds: data.DatasetLike, kind: str, split: data.Split, opts: TrainOptions) -> Rows:
    """Which rows train, early-stop, calibrate and test (a time split, never random; a horizon
    model's parts are embargoed by h days at each boundary)."""
    parts = data.part_masks(ds, split, data.horizon_of(kind))
    own = data.kind_rows(ds, kind)
    if kind != "earnings":
        train = data.subsample(parts["train"] & own, opts.max_train_rows, opts.seed)
        weights = np.ones(train.size, dtype="float32")
    else:
        earn = np.flatnonzero(parts["train"] & own)
        normal = data.subsample(
            parts["train"] & ~own, round(opts.normal_ratio * earn.size), opts.seed
        )
        train = np.concatenate([earn, normal])
        weights = np.r_[np.full(earn.size, EARNINGS_WEIGHT), np.ones(normal.size)].astype("float32")
    rows = Rows(
        train=train,
        weights=weights,
        val=np.flatnonzero(parts["val"] & own),
        val_fit=data.subsample(parts["val"] & own, opts.max_val_rows, opts.seed + 1),
        test=np.flatnonzero(parts["test"] & own),
        train_pool=int(np.count_nonzero(parts["train"] & own)),
    )
    if rows.train.size < 100 or rows.val.size < 20:
        raise ValueError(f"Too few rows: train {rows.train.size}, validation {rows.val.size}")
    return rows


def point_target(ds: data.DatasetLike, idx: np.ndarray, target: str) -> np.ndarray:
    """Target of the point head on rows ``idx``: the raw return, or its idiosyncratic part =
    return minus the mean return of ALL dataset symbols on the same day (the market part)."""
    y = np.asarray(ds.y, dtype="float64")
    if target == "raw":
        raw: np.ndarray = y[idx]
        return raw
    day = inputs.day_ids_of(ds.dates)
    ok = np.isfinite(y)
    sums = np.bincount(day[ok], weights=y[ok], minlength=day.max() + 1)
    counts = np.bincount(day[ok], minlength=day.max() + 1)
    market = sums / np.maximum(counts, 1)
    idiosyncratic: np.ndarray = y[idx] - market[day[idx]]
    return idiosyncratic


def fit(prep: Prepared, rows: Rows, opts: TrainOptions) -> Fitted:
    """Fit step: the network (both heads) and the LightGBM baseline on the training rows."""
    from predictions.ml.fit import fit_model

    t0 = time.monotonic()
    ds, target = prep.ds, opts.point_target()
    y_train = ds.y[rows.train].astype("float64")
    lo, hi = data.winsorize_limits(y_train)
    y_train = np.clip(y_train, lo, hi)
    x_train, x_val = prep.x[rows.train], prep.x[rows.val_fit]
    model, info = fit_model(
        x_train,
        y_train,
        x_val,
        ds.y[rows.val_fit],
        mask_columns=list(range(20, len(prep.features))) if opts.kind == "earnings" else [],
        sample_weight=rows.weights,
        config=replace(opts.fit_config(), seed=opts.seed),
        y_point=np.clip(point_target(ds, rows.train, target), lo, hi),
        y_point_val=point_target(ds, rows.val_fit, target),
    )
    info["point_target"] = target
    info["booster_target"] = opts.booster()
    # The booster is the LightGBM baseline and, with a LightGBM point model, part of the
    # served point forecast.
    if opts.booster() == "xs_rank":
        y_rank = rank_target(ds)
        y_booster, y_booster_val = y_rank[rows.train], y_rank[rows.val_fit]
    else:
        y_booster = np.clip(point_target(ds, rows.train, target), lo, hi)
        y_booster_val = point_target(ds, rows.val_fit, target)
    booster = baselines.fit_lightgbm(
        x_train,
        y_booster,
        x_val,
        y_booster_val,
        feature_names=[n.replace(":", "_") for n in prep.inputs],
        sample_weight=rows.weights,
        seed=opts.seed,
        objective="l2" if opts.booster() == "xs_rank" else None,
    )
    return Fitted(model, info, booster, (lo, hi), time.monotonic() - t0)


def rank_target(ds: data.DatasetLike) -> np.ndarray:
    """Per-day percentile rank of the return among ALL dataset symbols of that day, in
    [-0.5, 0.5] (NaN where the return is unknown): rows of different days never mix."""
    ranks: np.ndarray = inputs.cross_sectional_rank(ds.y, inputs.day_ids_of(ds.dates))
    return ranks


def calibrate(
    fitted: Fitted, prep: Prepared, rows: Rows, point_model: str = "network"
) -> dict[str, Any]:
    """Calibrate step, on the validation year only: conformal interval scales and the point
    shrinkage (both inside the graph); with a LightGBM point model also its blend weight."""
    from predictions.ml import calibration, ensemble
    from predictions.ml.fit import predict
    from predictions.ml.graph import set_calibration, set_point_scale

    x_val, y_val = prep.x[rows.val], prep.ds.y[rows.val].astype("float64")
    point, q_raw = predict(fitted.model, x_val)
    calib = calibration.tail_scales(y_val, q_raw)
    set_calibration(fitted.model, calib["lower_scale"], calib["upper_scale"])
    max_scale = MAX_POINT_SCALE.get(prep.kind, calibration.MAX_SHRINK)
    if point_model == "network":
        calib.update(calibration.point_shrinkage(y_val, point, max_scale))
        set_point_scale(fitted.model, calib["point_scale"])
    else:
        ranked = fitted.info.get("booster_target") == "xs_rank"
        dates = np.asarray(prep.ds.dates[rows.val]).astype("datetime64[D]")
        lgbm = baselines.predict_lightgbm(fitted.booster, x_val)
        fitted.blend = ensemble.choose_blend(
            point_model,
            y_val,
            dates,
            point,
            lgbm,
            booster_in_return_units=not ranked,
            max_scale=max_scale,
        )
        # Trees in the graph cost serving time (about 0.5 ms per tree per 5,000 symbols).
        fitted.blend["lightgbm_trees"] = int(fitted.booster.best_iteration or 0) or int(
            fitted.booster.num_trees()
        )
        calib["point_scale"] = fitted.blend["point_scale"]
        calib["point_scale_max"] = fitted.blend["point_scale_max"]
        calib["point_mae_validation_scaled"] = fitted.blend["point_mae_validation_scaled"]
        set_point_scale(fitted.model, fitted.blend["network_coefficient"])
    _, q_cal = predict(fitted.model, x_val)
    calib["calibrated_coverage_validation"] = float(
        np.mean((y_val >= q_cal[:, 0]) & (y_val <= q_cal[:, 2]))
    )
    return calib


def export(fitted: Fitted, prep: Prepared, rows: Rows, directory: Path) -> Exported:
    """Export step: Keras, ONNX (checked against Keras on real rows) and the LightGBM file."""
    from predictions.ml import artifacts
    from predictions.ml.export import export_onnx, onnx_session, parity_check

    directory.mkdir(parents=True, exist_ok=False)
    fitted.model.save(directory / artifacts.KERAS)
    onnx_path = directory / artifacts.ONNX
    export_onnx(fitted.model, len(prep.inputs), onnx_path)
    baselines.save_lightgbm(fitted.booster, directory / artifacts.LIGHTGBM)
    # The saved file holds the trees up to the best iteration: that is what the graph gets.
    booster = baselines.load_lightgbm(directory / artifacts.LIGHTGBM)
    coefficient = fitted.blend["lightgbm_coefficient"] if fitted.blend else 0.0
    if coefficient:
        from predictions.ml.ensemble import export_combined

        export_combined(onnx_path, booster, len(prep.inputs), coefficient)
    parity_rows = data.subsample(np.isin(np.arange(len(prep.ds.y)), rows.test), PARITY_ROWS, 7)
    if parity_rows.size == 0:
        parity_rows = rows.val[:PARITY_ROWS]
    x = prep.x[parity_rows]
    expected = None
    if coefficient:
        from predictions.ml.ensemble import reference_predict

        expected = reference_predict(fitted.model, booster, coefficient, x)
    parity = parity_check(fitted.model, onnx_path, x, expected)
    parity["reference"] = "keras + lightgbm booster" if coefficient else "keras"
    scale = booster_scale(fitted.info.get("booster_target"), fitted.blend)
    return Exported(directory, onnx_session(onnx_path), booster, parity, scale)


def booster_scale(target: str | None, blend: dict[str, Any] | None) -> float:
    """Booster output -> return units: a rank-target booster is rescaled by the blend's
    ``lightgbm_rescale`` (the network's spread over the booster's), any other is already there."""
    if target == "xs_rank" and blend:
        return float(blend.get("lightgbm_rescale", 1.0))
    return 1.0


def predict_rows(exported: Exported, x: np.ndarray) -> dict[str, np.ndarray]:
    """The served ONNX graph's point/quantiles and the saved LightGBM's point on rows ``x``."""
    from predictions.ml.export import onnx_predict

    point, quantiles = onnx_predict(exported.session, x)
    out = {"point": point, "quantiles": quantiles}
    if exported.booster is not None:
        lgbm = baselines.predict_lightgbm(exported.booster, x)
        out["lightgbm"] = exported.booster_scale * lgbm
    return out


def score(
    ds: data.DatasetLike, panel: Any, idx: np.ndarray, x: np.ndarray, exported: Exported
) -> dict[str, Any]:
    """Evaluate step: metrics of the exported ONNX model and the baselines on rows ``idx``
    (``x`` = their model inputs)."""
    pred = predict_rows(exported, x)
    base = {"trailing_mean_20d": baselines.trailing_mean(panel, ds.tickers[idx], ds.dates[idx])}
    if "lightgbm" in pred:
        base["lightgbm"] = pred["lightgbm"]
    return metrics.evaluate(
        ds.y[idx],
        ds.dates[idx].astype("datetime64[D]"),
        pred["point"],
        pred["quantiles"],
        baselines=base,
    )
