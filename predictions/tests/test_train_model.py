"""Training building blocks on a small slice of real prices: reproducibility, monotone
quantiles, NaN handling inside the graph, and validation-year calibration."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from predictions.ml import calibration, data
from predictions.tests.price_slices import write_slice

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def real_rows(tmp_path_factory, django_db_blocker):
    """(X technical, y) of a real 12-symbol slice, 2016-2021 train, 2022 validation."""
    from features.dataset import build_dataset
    from features.panel import Panel

    path = write_slice(tmp_path_factory.mktemp("prices"), end="2022-12-31")
    with django_db_blocker.unblock():
        ds = build_dataset(Panel.from_csv(path))
    split = data.Split.for_until(date(2025, 7, 9))
    parts = data.part_masks(ds, split)
    tr, va = np.flatnonzero(parts["train"]), np.flatnonzero(parts["val"])
    return ds.X[tr][:, :20], ds.y[tr], ds.X[va][:, :20], ds.y[va]


def small_config(seed: int = 7):
    from predictions.ml.fit import FitConfig

    return FitConfig(epochs=2, batch_size=256, patience=2, seed=seed)


def test_it_trains_reproducibly_with_a_seed(real_rows):
    from predictions.ml.fit import fit_model, predict

    x, y, xv, yv = real_rows
    a, _ = fit_model(x[:4000], y[:4000], xv[:1000], yv[:1000], config=small_config(7))
    b, _ = fit_model(x[:4000], y[:4000], xv[:1000], yv[:1000], config=small_config(7))
    c, _ = fit_model(x[:4000], y[:4000], xv[:1000], yv[:1000], config=small_config(8))
    pa, qa = predict(a, xv)
    pb, qb = predict(b, xv)
    pc, _ = predict(c, xv)
    np.testing.assert_array_equal(pa, pb)
    np.testing.assert_array_equal(qa, qb)
    assert not np.array_equal(pa, pc)  # the seed matters, so the equality above means something


def test_it_keeps_quantiles_monotone_even_on_extreme_inputs(real_rows):
    from predictions.ml.fit import fit_model, predict
    from predictions.ml.graph import set_calibration

    x, y, xv, yv = real_rows
    model, _ = fit_model(x[:3000], y[:3000], xv[:500], yv[:500], config=small_config())
    rng = np.random.default_rng(0)
    wild = (rng.standard_normal((2000, 20)) * 1e6).astype("float32")
    for lower, upper in ((1.0, 1.0), (0.0, 3.0), (2.5, 0.1)):
        set_calibration(model, lower, upper)
        _, q = predict(model, np.vstack([xv, wild]))
        assert np.all(q[:, 0] <= q[:, 1]) and np.all(q[:, 1] <= q[:, 2])
        assert np.isfinite(q).all()


def test_it_imputes_nan_inside_the_graph_and_masks_earnings_columns(real_rows):
    from predictions.ml.fit import predict
    from predictions.ml.graph import build_model, robust_stats

    x, *_ = real_rows
    wide = np.hstack([x[:2000], np.full((2000, 3), 0.5, dtype="float32")])
    center, scale = robust_stats(wide)
    model = build_model(center, scale, mask_columns=[20, 21, 22], seed=3)
    row = wide[:1].copy()
    # A missing technical value is imputed to the training median (scaled value 0) ...
    at_median, nan_tech = row.copy(), row.copy()
    at_median[0, 4], nan_tech[0, 4] = center[4], np.nan
    p1, q1 = predict(model, at_median)
    p2, q2 = predict(model, nan_tech)
    np.testing.assert_allclose(p1, p2, atol=1e-7)
    np.testing.assert_allclose(q1, q2, atol=1e-7)
    # ... while a missing earnings value also sets its mask input, so it is not the median.
    at_median[0, 21], nan_earn = center[21], at_median.copy()
    nan_earn[0, 21] = np.nan
    p3, _ = predict(model, at_median)
    p4, q4 = predict(model, nan_earn)
    assert np.isfinite(p4).all() and np.isfinite(q4).all()
    assert abs(float(p3[0] - p4[0])) > 1e-9


def test_it_calibrates_the_interval_on_validation(real_rows):
    *_, yv = real_rows
    yv = yv.astype("float64")
    # Deliberately too narrow raw quantiles: +-0.3% around zero.
    raw = np.column_stack([np.full_like(yv, -0.003), np.zeros_like(yv), np.full_like(yv, 0.003)])
    calib = calibration.tail_scales(yv, raw)
    assert calib["raw_coverage_validation"] < 0.5
    fixed = calibration.apply_scales(raw, calib["lower_scale"], calib["upper_scale"])
    coverage = np.mean((yv >= fixed[:, 0]) & (yv <= fixed[:, 2]))
    assert 0.79 <= coverage <= 0.82
    assert np.mean(yv < fixed[:, 0]) == pytest.approx(0.10, abs=0.01)
    assert np.mean(yv > fixed[:, 2]) == pytest.approx(0.10, abs=0.01)


def test_it_splits_by_time_without_overlap():
    split = data.Split.for_until(date(2025, 7, 9))
    assert split.as_dict() == {
        "train_end": "2021-12-31",
        "val_start": "2022-01-01",
        "val_end": "2022-12-31",
        "test_start": "2023-01-01",
        "test_end": "2025-07-09",
    }


def test_it_shrinks_the_point_within_the_largest_scale_it_is_given():
    rng = np.random.default_rng(3)
    point = rng.normal(0, 0.01, 4000)
    y = 1.4 * point + rng.normal(0, 0.001, 4000)  # the MAE-optimal scale is above 1
    assert calibration.point_shrinkage(y, point)["point_scale"] == 1.4
    capped = calibration.point_shrinkage(y, point, max_scale=1.0)
    assert capped["point_scale"] == 1.0 and capped["point_scale_max"] == 1.0
