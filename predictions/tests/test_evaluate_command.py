"""``train`` then ``evaluate`` through the management commands on small slices of real files,
including symbols the model never saw (from the all-listings file)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from predictions.ml import artifacts
from predictions.models import ModelVersion
from predictions.tests.price_slices import load_earnings_events, write_slice

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {
    "n",
    "mae",
    "mae_naive",
    "mae_ratio",
    "ic",
    "rank_ic",
    "coverage_p10_p90",
    "mae_lightgbm",
}
UNSEEN = ("AMD", "NVDA", "TSLA", "F", "GE", "NFLX", "ADBE", "COST")


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def run(*args) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_it_trains_registers_and_evaluates_on_unseen_symbols(models_dir, tmp_path):
    train_file = write_slice(tmp_path)
    result = run(
        "train", "--model", "normal", "--prices", str(train_file),
        "--epochs", "1", "--max-train-rows", "6000", "--activate", "--until", "2024-06-28",
    )  # fmt: skip
    mv = ModelVersion.objects.get(kind="normal", version=result["version"])
    assert mv.status == "active"
    directory = Path(mv.artifact_path)
    assert directory.parent == models_dir / "normal"
    for name in ("model.onnx", "model.keras", "metadata.json", "lightgbm.txt"):
        assert (directory / name).is_file()
    meta = artifacts.read_metadata(directory)
    # The default inputs: 20 technical + 12 price-action features, the per-day ranks of the
    # 30 that differ across symbols, and the sector inputs of the 1/5/20-day returns.
    assert meta["features"][0] == "return_1d" and len(meta["features"]) == 68
    assert meta["features"][-6:] == [
        f"{kind}:return_{n}d" for kind in ("sector_rel", "sector_mean") for n in (1, 5, 20)
    ]
    assert meta["feature_set"] == "price" and "xs_rank:gap_1d" in meta["features"]
    # --until moves the whole split and no later price is even loaded.
    assert meta["training_window"]["train_end"] == "2020-12-31"
    assert meta["training_window"]["test_end"] == "2024-06-28"
    assert meta["rows"]["dataset"]["last_date"] <= "2024-06-28"
    assert 0.78 <= meta["calibration"]["calibrated_coverage_validation"] <= 0.82
    assert meta["parity"]["max_abs_diff"] <= 1e-4
    assert meta["data_fingerprint"] and meta["uncertainty_method"] == "quantile_conformal"
    assert set(result["metrics"]["test"]) >= CONTRACT_KEYS
    # The saved Keras model reloads and agrees with the served ONNX graph (NaN rows included).
    import keras

    from predictions.ml.export import onnx_predict, onnx_session

    rows = np.random.default_rng(0).normal(size=(64, len(meta["features"]))).astype("float32")
    rows[::3, 5] = np.nan
    reloaded = keras.models.load_model(directory / "model.keras", compile=False)
    k_q = np.asarray(reloaded.predict(rows, verbose=0)["quantiles"])
    _, o_q = onnx_predict(onnx_session(directory / "model.onnx"), rows)
    np.testing.assert_allclose(k_q, o_q, atol=1e-5)

    other = write_slice(
        tmp_path,
        symbols=UNSEEN,
        start="2023-07-01",
        name="unseen.csv.gz",
        source="us_stocks_daily_last500_asof_2025-07-09.csv.gz",
    )
    report = run(
        "evaluate", "--model", "normal", "--prices", str(other), "--from", "2024-07-01",
        "--to", "2025-06-30", "--json",
    )  # fmt: skip
    assert set(report) >= CONTRACT_KEYS
    assert report["version"] == mv.version
    assert report["from"] >= "2024-07-01" and report["to"] <= "2025-06-30"
    assert report["symbols"] == report["symbols_unseen_in_training"] == len(UNSEEN)
    # ~250 days x 8 names, minus the earnings-day rows (none: no events for these names here)
    assert 1500 < report["n"] < 2100
    assert report["mae_ratio"] == pytest.approx(report["mae"] / report["mae_naive"], rel=1e-3)
    assert 0.0 < report["coverage_p10_p90"] < 1.0


def test_it_trains_the_earnings_model_on_earnings_days(models_dir, tmp_path):
    assert load_earnings_events() > 300
    train_file = write_slice(tmp_path)
    result = run(
        "train", "--model", "earnings", "--prices", str(train_file), "--epochs", "2",
    )  # fmt: skip
    mv = ModelVersion.objects.get(kind="earnings", version=result["version"])
    assert mv.status == "candidate"
    meta = mv.metadata
    assert len(meta["features"]) == 37
    assert meta["sample_weighting"]["earnings_day"] == 10.0
    rows = meta["rows"]
    assert 0 < rows["train_earnings_day"] < rows["train"]
    # The earnings point is shrunk, never amplified (lifecycle.MAX_POINT_SCALE).
    assert meta["calibration"]["point_scale_max"] == 1.0
    assert 0 < meta["calibration"]["point_scale"] <= 1.0
    test = result["metrics"]["test"]
    # Scored on earnings-day rows only: about 4 per symbol-year, 12 symbols, 2.5 years.
    assert 60 < test["n"] < 160
    report = run(
        "evaluate", "--model", "earnings", "--version", mv.version, "--prices", str(train_file),
        "--from", "2023-01-01", "--json",
    )  # fmt: skip
    assert report["n"] == test["n"]
    # Same rows; values agree up to the warm-up of exponential averages (shorter history here).
    assert report["mae"] == pytest.approx(test["mae"], rel=0.02)
