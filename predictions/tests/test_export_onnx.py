"""ONNX export per the artifact contract, checked against Keras on real rows with NaN values."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from predictions.ml import data
from predictions.tests.price_slices import write_slice

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def earnings_shaped(tmp_path_factory, django_db_setup, django_db_blocker):
    """37-column real rows (earnings columns mostly missing) and a small trained model."""
    from features.dataset import build_dataset
    from features.panel import Panel
    from predictions.ml.fit import FitConfig, fit_model

    path = write_slice(tmp_path_factory.mktemp("prices"), end="2023-06-30")
    with django_db_blocker.unblock():
        ds = build_dataset(Panel.from_csv(path))
    parts = data.part_masks(ds, data.Split.for_until(date(2025, 7, 9)))
    tr, va = np.flatnonzero(parts["train"]), np.flatnonzero(parts["val"])
    x = ds.X[:, :37].copy()  # the technical and earnings columns
    # Knock out values at random (technical and earnings columns) so NaN paths are exercised.
    rng = np.random.default_rng(1)
    x[rng.random(x.shape) < 0.1] = np.nan
    model, _ = fit_model(
        x[tr],
        ds.y[tr],
        x[va],
        ds.y[va],
        mask_columns=list(range(20, 37)),
        config=FitConfig(epochs=1, batch_size=256, seed=5),
    )
    return model, x[va]


def test_it_exports_the_contract_signature_with_parity(earnings_shaped, tmp_path):
    from predictions.ml.export import export_onnx, onnx_session, parity_check

    model, x = earnings_shaped
    path = tmp_path / "model.onnx"
    export_onnx(model, 37, path)
    session = onnx_session(path)
    assert [i.name for i in session.get_inputs()] == ["features"]
    assert [o.name for o in session.get_outputs()] == ["point", "quantiles"]
    assert session.get_inputs()[0].shape == ["batch", 37]
    assert [o.shape for o in session.get_outputs()] == [["batch", 1], ["batch", 3]]
    result = parity_check(model, path, x[:3000].astype("float32"))
    assert result["rows"] == min(3000, len(x))
    assert result["rows_with_nan"] > 0
    assert result["max_abs_diff"] <= 1e-4
    point, q = session.run(None, {"features": x[:50].astype("float32")})
    assert point.shape == (50, 1) and q.shape == (50, 3)
    assert np.isfinite(point).all() and np.all(q[:, 0] <= q[:, 1]) and np.all(q[:, 1] <= q[:, 2])


def test_it_fails_the_parity_check_for_a_different_graph(earnings_shaped, tmp_path):
    from predictions.ml.export import ParityError, export_onnx, parity_check
    from predictions.ml.graph import set_calibration

    model, x = earnings_shaped
    path = tmp_path / "model.onnx"
    export_onnx(model, 37, path)
    set_calibration(model, 3.0, 3.0)  # Keras now differs from the exported graph
    with pytest.raises(ParityError):
        parity_check(model, path, x[:500].astype("float32"))
