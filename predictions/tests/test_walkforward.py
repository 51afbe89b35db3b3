"""Walk-forward evaluation and the shared model-input path, on small slices of the real price
file: the JSON contract, the stored results (file + API), and the leakage guards (features of
day t use nothing after t, cross-sectional inputs use only the same day's symbols, no test-year
row reaches training or calibration)."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from predictions.ml import data, inputs, wf_store
from predictions.ml.lifecycle import TrainOptions, select_rows
from predictions.ml.walkforward import split_for_year
from predictions.tests.price_slices import day_cycle_input, write_slice

pytestmark = pytest.mark.django_db

YEAR_KEYS = {
    "year", "n", "mae", "mae_naive", "mae_ratio", "ic", "rank_ic", "icir", "hit_rate",
    "coverage_p10_p90", "mean_width_p10_p90", "pinball",
}  # fmt: skip
SUMMARY_KEYS = {
    "rank_ic", "icir", "mae_ratio", "coverage", "width_ratio_vs_ewma", "pinball_ratio_vs_ewma",
}  # fmt: skip


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, django_db_blocker):
    from features.dataset import build_dataset
    from features.panel import Panel

    path = write_slice(tmp_path_factory.mktemp("prices"), start="2016-01-01", end="2020-12-31")
    with django_db_blocker.unblock():
        panel = Panel.from_csv(path)
        return path, panel, build_dataset(panel)


def test_it_ranks_each_day_against_that_day_only():
    values = np.array([3.0, 1.0, 2.0, np.nan, 10.0, 10.0, -5.0])
    days = np.array([0, 0, 0, 0, 1, 1, 1])
    ranks = inputs.cross_sectional_rank(values, days)
    np.testing.assert_allclose(ranks[:3], [1 / 3, -1 / 3, 0.0])
    assert np.isnan(ranks[3])
    np.testing.assert_allclose(ranks[4:], [1 / 6, 1 / 6, -1 / 3])  # ties share their mean rank
    # Changing another day's values leaves this day's ranks alone.
    other = values.copy()
    other[4:] = [-100.0, 7.0, 50.0]
    np.testing.assert_array_equal(inputs.cross_sectional_rank(other, days)[:4], ranks[:4])


def test_it_serves_the_same_inputs_as_it_trains_on(loaded):
    from features.definitions import ALL_FEATURES
    from predictions.pipeline.cycle import _inputs

    _, _, ds = loaded
    names = inputs.input_columns(data.feature_columns("normal", "price"), "xs_rank")
    stored = data.feature_columns("normal", "price")
    assert names[:32] == stored and "xs_rank:return_1d" in names and "xs_rank:gap_1d" in names
    assert "xs_rank:market_return" not in names
    every_day = inputs.model_inputs(ds.X, ALL_FEATURES, names, inputs.day_ids_of(ds.dates))
    # A second model in the same cycle (the 20-day kind) shares ranked inputs with the first.
    names_20 = inputs.input_columns(data.feature_columns("horizon_20d", "price"), "xs_rank")
    every_day_20 = inputs.model_inputs(ds.X, ALL_FEATURES, names_20, inputs.day_ids_of(ds.dates))
    for day in np.unique(ds.dates.astype("datetime64[D]"))[[0, 100, -1]]:
        rows, cycle_input = day_cycle_input(ds, day)
        # Serving: the pipeline passes one day's matrix, without day ids.
        served = inputs.model_inputs(ds.X[rows], ALL_FEATURES, names)
        np.testing.assert_array_equal(served, every_day[rows])
        # ... and the serving pipeline's own input step gives the same matrix.
        model = SimpleNamespace(kind="normal", version="v-test", features=names)
        np.testing.assert_array_equal(_inputs(model, cycle_input), every_day[rows])
        model_20 = SimpleNamespace(kind="horizon_20d", version="v-test", features=names_20)
        np.testing.assert_array_equal(_inputs(model_20, cycle_input), every_day_20[rows])
        assert "xs_rank:gap_1d" in cycle_input.ranks  # computed once, reused by the second


def test_it_computes_day_t_features_from_data_up_to_t(loaded):
    from features.dataset import build_dataset
    from features.panel import Panel

    _, panel, ds = loaded
    cut = panel.dates[700]
    keep = panel.dates <= cut
    fields = {f: getattr(panel, f)[:, keep] for f in ("open", "high", "low", "close", "volume")}
    early = build_dataset(Panel(tickers=panel.tickers, dates=panel.dates[keep], **fields))
    full_rows = np.flatnonzero(ds.dates.astype("datetime64[D]") == cut)
    early_rows = np.flatnonzero(early.dates.astype("datetime64[D]") == cut)
    assert full_rows.size == early_rows.size > 5
    np.testing.assert_array_equal(ds.X[full_rows, :20], early.X[early_rows, :20])


def test_it_keeps_test_year_rows_out_of_training_and_calibration(loaded):
    _, _, ds = loaded
    for limit in (5000, None):
        split = split_for_year(2020, date(2020, 12, 31))
        opts = TrainOptions(kind="normal", max_train_rows=limit)
        rows = select_rows(ds, opts.kind, split, opts)
        dates = ds.dates.astype("datetime64[D]")
        test_start = np.datetime64("2020-01-01")
        assert dates[rows.train].max() < np.datetime64("2019-01-01")
        assert dates[rows.val].min() >= np.datetime64("2019-01-01")
        assert dates[rows.val].max() < test_start and dates[rows.val_fit].max() < test_start
        # The last day of each earlier part is dropped: its target is a day of the next part.
        assert dates[rows.val].max() < np.datetime64("2019-12-31")
        assert dates[rows.test].min() >= test_start
        assert not set(rows.test) & (set(rows.train) | set(rows.val))


def test_it_runs_the_walkforward_and_stores_what_the_api_serves(
    loaded, settings, tmp_path, django_user_model
):
    path, *_ = loaded
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command(
        "walkforward", "--model", "normal", "--prices", str(path), "--from", "2019",
        "--to", "2020-06-30", "--max-train-rows", "4000", "--epochs", "1", "--json", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert [y["year"] for y in result["years"]] == [2019, 2020]
    for year in result["years"]:
        assert set(year) >= YEAR_KEYS
        assert {"zero", "reversal", "lightgbm", "ewma_vol"} <= set(year["baselines"])
        assert year["window"]["val_start"] == f"{year['year'] - 1}-01-01"
        assert year["train_rows"] <= 4000
    assert result["years"][1]["window"]["test_end"] == "2020-06-30"
    assert set(result["summary"]) >= SUMMARY_KEYS and result["summary"]["n"] == 0  # no 2023
    assert result["machine"]["cores"]
    rows = pd.read_csv(tmp_path / "walkforward" / "normal" / wf_store.PREDICTIONS)
    assert list(rows.columns) == list(wf_store.COLUMNS)
    assert len(rows) == sum(y["n"] for y in result["years"])
    assert (rows["p10"] <= rows["p50"]).all() and (rows["p50"] <= rows["p90"]).all()
    assert rows["date"].max() <= "2020-06-30" and rows["date"].min() >= "2019-01-01"
    stored = wf_store.load("normal")
    assert stored is not None and stored["years"] == result["years"]
    from rest_framework.test import APIClient

    from predictions.tests.api_support import access_token

    user = django_user_model.objects.create_user("wf-reader", password="x" * 12)
    api = APIClient()
    assert api.get("/api/accuracy/walkforward").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    response = api.get("/api/accuracy/walkforward")
    assert response.status_code == 200
    body = response.json()
    assert body["normal"]["years"] == result["years"] and body["earnings"] is None
