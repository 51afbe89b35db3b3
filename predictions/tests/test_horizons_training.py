"""Multi-horizon models (issue 19) on a slice of the real price file: the h-day target, the
h-day embargo at each split boundary (no training or calibration row's target window reaches
into the next part), and one 5-day model trained, calibrated, exported and registered through
the same lifecycle as the one-day models."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from core.enums import HORIZON_OF_KIND, KIND_OF_HORIZON
from predictions.ml import data
from predictions.ml.lifecycle import TrainOptions, select_rows
from predictions.ml.walkforward import split_for_year
from predictions.tests.price_slices import write_slice

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, django_db_blocker):
    from features.dataset import build_dataset
    from features.panel import Panel

    path = write_slice(tmp_path_factory.mktemp("prices"), start="2015-01-01", end="2021-06-30")
    with django_db_blocker.unblock():
        panel = Panel.from_csv(path)
        return path, panel, build_dataset(panel)


def test_it_names_a_model_kind_for_each_longer_horizon():
    assert sorted(KIND_OF_HORIZON) == [5, 20]
    assert {HORIZON_OF_KIND[k] for k in data.HORIZON_KINDS} == {5, 20}
    assert HORIZON_OF_KIND["normal"] == HORIZON_OF_KIND["earnings"] == 1


def test_it_computes_the_h_day_return_from_the_panel(loaded):
    _, panel, ds = loaded
    pdates = panel.dates.astype("datetime64[D]")
    row_of = {str(t): i for i, t in enumerate(panel.tickers)}
    for h in (1, 5, 20):
        hds = data.with_horizon(ds, panel, h)
        if h == 1:  # the same target as the dataset's own next-day return
            np.testing.assert_array_equal(np.isfinite(hds.y), np.isfinite(ds.y))
            ok = np.isfinite(ds.y)
            np.testing.assert_allclose(hds.y[ok], ds.y[ok], atol=1e-7)
        rng = np.random.default_rng(h)
        for i in rng.choice(np.flatnonzero(np.isfinite(hds.y)), size=200, replace=False):
            r = row_of[str(ds.tickers[i])]
            c = int(np.searchsorted(pdates, ds.dates[i].astype("datetime64[D]")))
            expected = panel.close[r, c + h] / panel.close[r, c] - 1
            assert abs(float(hds.y[i]) - expected) < 1e-6
            assert hds.target_dates[i] == pdates[c + h]
        # The last h days of the file have no h-day target.
        last = ds.dates.astype("datetime64[D]") > pdates[-h - 1]
        assert last.any() and np.isnan(hds.y[last]).all()


@pytest.mark.parametrize("kind", ["horizon_5d", "horizon_20d"])
def test_it_embargoes_h_days_at_each_boundary(loaded, kind):
    _, panel, ds = loaded
    h = HORIZON_OF_KIND[kind]
    hds = data.with_horizon(ds, panel, h)
    split = split_for_year(2020, date(2020, 12, 31))
    opts = TrainOptions(kind=kind, max_train_rows=None)
    rows = select_rows(hds, kind, split, opts)
    dates = hds.dates.astype("datetime64[D]")
    val_start, test_start = np.datetime64("2019-01-01"), np.datetime64("2020-01-01")
    # No training row's target window (t .. t+h) reaches the validation year, no validation
    # row's the test year: the target days are the closes h trading days later.
    assert hds.target_dates[rows.train].max() < val_start
    assert hds.target_dates[rows.val].max() < test_start
    assert hds.target_dates[rows.val_fit].max() < test_start
    # Exactly h days are dropped at each boundary (not more: the embargo costs h days only).
    train_days = np.unique(dates[dates < val_start])
    val_days = np.unique(dates[(dates >= val_start) & (dates < test_start)])
    assert dates[rows.train].max() == train_days[-h - 1]
    assert dates[rows.val].max() == val_days[-h - 1]
    assert hds.target_dates[rows.train].max() == train_days[-1]
    assert dates[rows.test].min() >= test_start
    # Every row serves a horizon model (earnings days included).
    in_test = (dates >= test_start) & (dates <= np.datetime64("2020-12-31"))
    assert rows.test.size == int(np.count_nonzero(in_test & np.isfinite(hds.y)))
    # The one-day embargo would let h-day targets leak across (the check above can fail).
    short = data.part_masks(hds, split, 1)
    assert hds.target_dates[short["train"]].max() >= val_start


def test_it_trains_exports_and_registers_a_5_day_model(loaded, settings, tmp_path):
    from predictions.ml import registry
    from predictions.ml.export import onnx_session

    path, *_ = loaded
    settings.MODELS_DIR = tmp_path / "models"
    out = StringIO()
    call_command(
        "train", "--model", "horizon_5d", "--prices", str(path), "--until", "2021-06-30",
        "--epochs", "1", "--max-train-rows", "5000", "--activate", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    active = registry.active_version("horizon_5d")
    assert active is not None and active.version == result["version"]
    assert registry.active_version("normal") is None  # its own kind, beside the one-day ones
    meta = active.metadata
    assert meta["horizon_days"] == 5 and meta["kind"] == "horizon_5d"
    assert meta["target"].startswith("5-trading-day return")
    embargo = meta["leakage_checks"]["embargo"]
    assert embargo["ok"] and embargo["train_last_target_day"] < embargo["validation_start"]
    assert meta["leakage_checks"]["test"]["target_recomputed_max_abs_diff"] < 1e-6
    assert meta["parity"]["max_abs_diff"] <= 1e-4
    # The h-day point is shrunk, never amplified (lifecycle.MAX_POINT_SCALE).
    assert meta["calibration"]["point_scale_max"] == 1.0
    assert 0 < meta["calibration"]["point_scale"] <= 1.0
    session = onnx_session(tmp_path / "models" / "horizon_5d" / active.version / "model.onnx")
    assert [o.name for o in session.get_outputs()] == ["point", "quantiles"]
    assert set(result["metrics"]["test"]) >= {"mae", "mae_naive", "coverage_p10_p90"}
