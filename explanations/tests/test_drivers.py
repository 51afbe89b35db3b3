"""Key drivers by occlusion on a real ONNX graph whose exact contributions are known: for a
linear model with median imputation, feature i contributes w_i * (x_i - median_i)."""

from __future__ import annotations

import pytest

from explanations.drivers import key_drivers
from explanations.tests.conftest import FEATURES, MEDIANS, TECHNICAL, WEIGHTS


@pytest.mark.django_db
def test_it_ranks_features_by_their_occlusion_contribution(onnx_model):
    drivers, info = key_drivers(FEATURES, "normal_day", "test-linear-1", top=3)
    assert info["available"] and info["method"] == "occlusion"
    assert [d["feature"] for d in drivers] == ["rsi_14", "return_20d", "volatility_20d"]
    for d in drivers:
        i = TECHNICAL.index(d["feature"])
        expected = float(WEIGHTS[i]) * (FEATURES[d["feature"]] - float(MEDIANS[i]))
        assert d["contribution"] == pytest.approx(expected, abs=1e-6)
    assert drivers[2]["direction"] == "down"  # high volatility lowers this model's forecast
    assert drivers[0]["value"] == pytest.approx(62.5)


@pytest.mark.django_db
def test_it_skips_missing_features_and_zero_weights(onnx_model):
    drivers, _ = key_drivers({"return_20d": 0.05, "return_1d": 0.01}, "normal_day", top=5)
    assert [d["feature"] for d in drivers] == ["return_20d"]


@pytest.mark.django_db
def test_it_reports_when_no_model_exists():
    drivers, info = key_drivers(FEATURES, "earnings_day")
    assert drivers == [] and info["available"] is False


@pytest.mark.django_db
def test_it_occludes_a_feature_together_with_its_per_day_rank(tmp_path):
    import json

    from explanations.tests.conftest import build_onnx
    from predictions.models import ModelVersion

    directory = build_onnx(tmp_path / "normal" / "test-ranked-1")
    meta = json.loads((directory / "metadata.json").read_text())
    names = list(TECHNICAL)
    names[7] = "xs_rank:return_20d"  # the graph's volatility_20d column now reads the rank
    meta.update(version="test-ranked-1", features=names)
    (directory / "metadata.json").write_text(json.dumps(meta))
    ModelVersion.objects.create(
        kind="normal", version="test-ranked-1", artifact_path=str(directory), status="active"
    )
    features = {"return_20d": 0.082, "xs_rank:return_20d": 0.4, "rsi_14": 62.5}
    drivers, _ = key_drivers(features, "normal_day", "test-ranked-1", top=5)
    by_name = {d["feature"]: d for d in drivers}
    assert set(by_name) == {"return_20d", "rsi_14"}  # one driver per stored feature
    expected = float(WEIGHTS[2]) * (0.082 - float(MEDIANS[2])) + float(WEIGHTS[7]) * (
        0.4 - float(MEDIANS[7])
    )
    assert by_name["return_20d"]["contribution"] == pytest.approx(expected, abs=1e-6)
    assert by_name["return_20d"]["value"] == pytest.approx(0.082)
