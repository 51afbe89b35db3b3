"""The LightGBM point head inside the served ONNX graph (``point_model`` lightgbm | blend), on
small slices of the real price file: one ``model.onnx`` with the contract signature whose point is
the Keras network's plus the Python booster's share (parity), a blend weight that no test-year row
can move, and a trained combined model served by the live pipeline."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from predictions.ml import baselines, data, ensemble, inputs
from predictions.ml.lifecycle import TrainOptions, calibrate, fit, prepare, select_rows
from predictions.ml.walkforward import split_for_year
from predictions.tests.price_slices import TEST_SYMBOLS, day_cycle_input, write_slice

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, django_db_setup, django_db_blocker):
    from features.dataset import build_dataset
    from features.panel import Panel

    path = write_slice(tmp_path_factory.mktemp("prices"), start="2014-01-01", end="2020-12-31")
    with django_db_blocker.unblock():
        panel = Panel.from_csv(path)
        return path, panel, build_dataset(panel)


@pytest.fixture(scope="module")
def trained(loaded):
    """A small network and booster on xs_rank inputs, with NaN knocked into the rows."""
    from features.definitions import ALL_FEATURES
    from predictions.ml.fit import FitConfig, fit_model

    _, _, ds = loaded
    names = inputs.input_columns(data.feature_columns("normal"), "xs_rank")
    x = inputs.model_inputs(ds.X, ALL_FEATURES, names, inputs.day_ids_of(ds.dates))
    x[np.random.default_rng(3).random(x.shape) < 0.1] = np.nan
    parts = data.part_masks(ds, split_for_year(2020, date(2020, 12, 31)))
    tr, va = np.flatnonzero(parts["train"]), np.flatnonzero(parts["val"])
    model, _ = fit_model(
        x[tr], ds.y[tr], x[va], ds.y[va], config=FitConfig(epochs=1, batch_size=256, seed=5)
    )
    booster = baselines.fit_lightgbm(
        x[tr], ds.y[tr], x[va], ds.y[va], feature_names=[f"f{i}" for i in range(len(names))]
    )
    return model, booster, x[va], names


def test_it_serves_network_and_booster_in_one_graph_with_parity(trained, tmp_path):
    from predictions.ml.export import export_onnx, onnx_session, parity_check
    from predictions.ml.fit import predict

    model, booster, x, names = trained
    path = tmp_path / "model.onnx"
    export_onnx(model, len(names), path)
    baselines.save_lightgbm(booster, tmp_path / "lightgbm.txt")
    saved = baselines.load_lightgbm(tmp_path / "lightgbm.txt")
    assert saved.num_trees() > 1  # the graph has real trees to agree with
    ensemble.export_combined(path, saved, len(names), 0.7)
    session = onnx_session(path)
    assert [(i.name, i.shape) for i in session.get_inputs()] == [("features", ["batch", 38])]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [
        ("point", ["batch", 1]), ("quantiles", ["batch", 3]),
    ]  # fmt: skip
    expected = ensemble.reference_predict(model, saved, 0.7, x)
    result = parity_check(model, path, x, expected)
    assert result["rows_with_nan"] > 0 and result["max_abs_diff"] <= 1e-5
    point, quantiles = session.run(None, {"features": x})
    keras_point, keras_q = predict(model, x)
    # The booster's share is really in the graph, and the quantile head is the network's.
    lgbm = baselines.predict_lightgbm(saved, x)
    assert np.std(lgbm) > 0
    np.testing.assert_allclose(point.reshape(-1) - keras_point, 0.7 * lgbm, atol=1e-6)
    np.testing.assert_allclose(quantiles, keras_q, atol=1e-6)


def test_it_sends_a_value_next_to_a_split_the_way_lightgbm_does():
    import lightgbm as lgb
    import onnxruntime as ort

    # Four adjacent float32 values: each split's double threshold lies halfway between two of
    # them, so its nearest float32 is one of the data values (the converter's own rounding).
    values = [np.float32(0.1)]
    for _ in range(3):
        values.append(np.nextafter(values[-1], np.float32(1)))
    x = np.repeat(np.array(values, dtype="float32"), 100).reshape(-1, 1)
    y = np.repeat([0.0, 1.0, 2.0, 3.0], 100)
    params = {"objective": "l1", "num_threads": 1, "verbose": -1, "min_data_in_leaf": 5}
    booster = lgb.train({**params, "min_data_in_bin": 1}, lgb.Dataset(x, y), num_boost_round=3)
    graph = ensemble.booster_onnx(booster, 1)
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"features": x})[0].reshape(-1)
    np.testing.assert_allclose(out, booster.predict(x), atol=1e-6)
    assert np.ptp(out) > 0.5


def test_it_picks_the_blend_weight_with_the_best_validation_rank_ic():
    rng = np.random.default_rng(0)
    dates = np.repeat(np.arange("2019-01-02", "2019-03-01", dtype="datetime64[D]"), 40)
    y = rng.normal(0, 0.02, dates.size)
    signal, noise = y + rng.normal(0, 0.01, y.size), rng.normal(0, 0.02, y.size)
    good_trees = ensemble.choose_blend("blend", y, dates, noise, signal)
    assert good_trees["lightgbm_weight"] == 1.0
    assert good_trees["lightgbm_coefficient"] > 0 and good_trees["network_coefficient"] == 0
    bad_trees = ensemble.choose_blend("blend", y, dates, signal, noise)
    assert bad_trees["lightgbm_weight"] == 0.0 and bad_trees["lightgbm_coefficient"] == 0
    only = ensemble.choose_blend("lightgbm", y, dates, signal, noise)
    assert only["lightgbm_weight"] == 1.0 and only["network_coefficient"] == 0
    constant = ensemble.choose_blend("blend", y, dates, signal, np.zeros_like(y))
    assert constant["lightgbm_coefficient"] == 0


def test_it_shrinks_the_blended_point_within_the_largest_scale_it_is_given():
    rng = np.random.default_rng(4)
    dates = np.repeat(np.arange("2019-01-02", "2019-03-01", dtype="datetime64[D]"), 40)
    booster = rng.normal(0, 0.01, dates.size)
    y = 1.4 * booster + rng.normal(0, 0.001, dates.size)  # MAE-optimal scale above 1
    free = ensemble.choose_blend("lightgbm", y, dates, rng.normal(0, 0.01, y.size), booster)
    assert free["point_scale"] == 1.4 and free["point_scale_max"] == 1.5
    capped = ensemble.choose_blend(
        "lightgbm", y, dates, rng.normal(0, 0.01, y.size), booster, max_scale=1.0
    )
    assert capped["point_scale"] == 1.0 and capped["lightgbm_coefficient"] == 1.0


def test_it_chooses_the_blend_without_test_year_rows(loaded):
    path, panel, ds = loaded
    opts = TrainOptions(kind="normal", prices=path, max_train_rows=4000, epochs=1)
    prep = prepare(opts, (panel, ds))
    rows = select_rows(prep.ds, "normal", split_for_year(2020, date(2020, 12, 31)), opts)
    blends = []
    for scramble in (False, True):
        if scramble:  # test-year targets and inputs replaced: the blend may not move
            rng = np.random.default_rng(9)
            prep.ds.y[rows.test] = rng.normal(0, 0.5, rows.test.size)
            prep.x[rows.test] = rng.normal(0, 5, (rows.test.size, prep.x.shape[1]))
        fitted = fit(prep, rows, opts)
        calib = calibrate(fitted, prep, rows, "blend")
        blends.append((fitted.blend, calib["lower_scale"], calib["upper_scale"]))
    assert blends[0] == blends[1]
    assert blends[0][0]["validation_rows"] == rows.val.size


def test_it_rescales_a_rank_target_booster_to_the_networks_spread():
    rng = np.random.default_rng(1)
    dates = np.repeat(np.arange("2019-01-02", "2019-03-01", dtype="datetime64[D]"), 40)
    y = rng.normal(0, 0.02, dates.size)
    network = 0.1 * y + rng.normal(0, 0.002, y.size)
    ranks = inputs.cross_sectional_rank(y + rng.normal(0, 0.01, y.size), inputs.day_ids_of(dates))
    raw_units = ensemble.choose_blend("lightgbm", y, dates, network, ranks)
    assert raw_units["lightgbm_rescale"] == 1.0
    rank_units = ensemble.choose_blend(
        "lightgbm", y, dates, network, ranks, booster_in_return_units=False
    )
    assert rank_units["lightgbm_rescale"] == pytest.approx(np.std(network) / np.std(ranks))


def test_it_ranks_the_booster_target_within_each_day_only(loaded):
    from predictions.ml.lifecycle import rank_target

    _, _, ds = loaded
    before = rank_target(ds)
    days = ds.dates.astype("datetime64[D]")
    first = days == days.min()
    ds_y = ds.y.copy()
    try:
        ds.y[~first] = -ds.y[~first]  # every other day's returns turned over
        after = rank_target(ds)
    finally:
        ds.y[:] = ds_y
    np.testing.assert_array_equal(before[first], after[first])
    assert not np.allclose(before[~first], after[~first], equal_nan=True)
    assert np.nanmin(before) > -0.5 and np.nanmax(before) < 0.5


@pytest.mark.parametrize(
    "extra",
    [
        ["--feature-set", "base", "--booster-target", "point"],
        ["--feature-set", "price", "--booster-target", "xs_rank"],
    ],
    ids=["base-features", "price-features-rank-booster"],
)
def test_it_trains_a_lightgbm_point_model_and_serves_it_in_the_live_cycle(
    loaded, settings, tmp_path, redis_client, extra
):
    from features.definitions import ALL_FEATURES
    from ingestion.models import Symbol
    from ingestion.sectors import forget_sectors, sectors_of
    from predictions.benchmarks.universe import make_symbols
    from predictions.ml import registry
    from predictions.pipeline import runtime
    from predictions.pipeline.cycle import run_cycle

    path, _, ds = loaded
    settings.MODELS_DIR = tmp_path / "models"
    out = StringIO()
    call_command(
        "train", "--model", "normal", "--prices", str(path), "--until", "2020-12-31",
        "--epochs", "1", "--max-train-rows", "5000", "--point-model", "lightgbm", "--activate",
        *extra, stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    active = registry.active_version("normal")
    meta = active.metadata
    assert result["point_model"]["point_model"] == "lightgbm"
    assert meta["point_model"]["lightgbm_in_graph"] and meta["point_model"]["lightgbm_weight"] == 1
    assert meta["parity"]["reference"] == "keras + lightgbm booster"
    assert meta["parity"]["max_abs_diff"] <= 1e-4
    feature_set, booster_target = extra[1], extra[3]
    names = inputs.input_columns(data.feature_columns("normal", feature_set), meta["input_scheme"])
    assert meta["features"] == names  # every input, in order
    assert meta["feature_set"] == feature_set and meta["booster_target"] == booster_target
    day = ds.dates.astype("datetime64[D]").max()
    rows, inp = day_cycle_input(ds, day)
    make_symbols(list(TEST_SYMBOLS))
    for i, ticker in enumerate(TEST_SYMBOLS):  # the sector inputs of the default scheme
        Symbol.objects.filter(ticker=ticker).update(sector=("Energy", "Financials")[i % 2])
    forget_sectors()
    runtime.clear_cache()
    try:
        cycle, _ = run_cycle(inp, redis_client=redis_client)
    finally:
        runtime.clear_cache()
    assert cycle.n_predicted == rows.size and cycle.model_versions["normal"] == active.version
    import keras

    import predictions.ml.graph  # noqa: F401  (registers the custom layers)

    directory = tmp_path / "models" / "normal" / active.version
    model = keras.saving.load_model(directory / "model.keras", compile=False)
    booster = baselines.load_lightgbm(directory / "lightgbm.txt")
    sectors = sectors_of(ds.tickers[rows])
    x = inputs.model_inputs(ds.X[rows], ALL_FEATURES, meta["features"], sectors=sectors)
    coefficient = meta["point_model"]["lightgbm_coefficient"]
    expected, _ = ensemble.reference_predict(model, booster, coefficient, x)
    for i, ticker in enumerate(ds.tickers[rows]):
        served = json.loads(redis_client.get(f"pred:{ticker}"))
        assert served["predicted_return_1d"] == pytest.approx(expected[i], abs=1e-6)
    from predictions.models import Prediction
    from predictions.snapshots import inputs_of

    # The stored snapshot holds the stored features; the per-day ranks the model read come back
    # from the cycle's rows (to 1/n: the snapshot rounds values to 6 decimals, so near-ties tie).
    for i in (0, rows.size // 2):
        row = Prediction.objects.get(symbol__ticker=ds.tickers[rows][i])
        assert not any(k.startswith("xs_rank:") for k in row.features_snapshot)
        restored = inputs_of(row.symbol.ticker, row.data_timestamp, row.features_snapshot)
        served = dict(zip(meta["features"], x[i].tolist(), strict=True))
        finite = {k: v for k, v in served.items() if v == v}
        assert set(restored) >= set(finite)
        assert {k: restored[k] for k in finite} == pytest.approx(finite, abs=1.0 / rows.size)
    assert ("xs_rank:gap_1d" in meta["features"]) == (feature_set == "price")
    # The default normal scheme reads the sectors: served and read back like the ranks.
    assert "sector_mean:return_1d" in meta["features"]
    assert np.isfinite(x[:, meta["features"].index("sector_mean:return_5d")]).all()
