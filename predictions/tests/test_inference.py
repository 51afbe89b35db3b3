"""Inference runtime: a REAL ONNX model per the artifact contract, served by ONNX Runtime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from django.test import override_settings

from features.definitions import TECHNICAL_FEATURES
from predictions.benchmarks.universe import install_models
from predictions.models import ModelVersion
from predictions.pipeline import runtime, toy_model
from predictions.pipeline.batching import CANDIDATES, measure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    runtime.clear_cache()
    yield
    runtime.clear_cache()


def test_it_loads_the_session_once_per_process_and_version(tmp_path):
    install_models(tmp_path, "v1")
    first = runtime.get_model("normal")
    assert runtime.get_model("normal").session is first.session
    toy_model.install(tmp_path, "normal", "v2", list(TECHNICAL_FEATURES), seed=1)
    second = runtime.get_model("normal")
    assert second.version == "v2"
    assert second.session is not first.session


def test_it_reloads_when_the_model_file_is_replaced(tmp_path):
    install_models(tmp_path, "v1")
    first = runtime.get_model("normal")
    toy_model.write_artifact(
        tmp_path / "normal" / "v1", "normal", "v1", list(TECHNICAL_FEATURES), 7
    )
    assert runtime.get_model("normal").session is not first.session


def test_it_serves_a_newly_activated_version_at_the_next_call(tmp_path):
    install_models(tmp_path, "v1")
    first = runtime.get_model("normal")
    assert first.version == "v1" and runtime.get_model("normal") is first  # cached
    install_models(tmp_path, "v2", seed=1)
    model = runtime.get_model("normal")
    assert model.version == "v2" and model.session is not first.session


def test_it_matches_onnxruntime_run_directly_and_derives_sigma(tmp_path):
    install_models(tmp_path)
    model = runtime.get_model("normal")
    X = np.random.default_rng(3).normal(size=(1000, 20)).astype(np.float32)
    X[::7, 4] = np.nan
    point, quantiles = model.predict(X)
    direct = ort.InferenceSession(str(tmp_path / "normal" / "v1" / "model.onnx"))
    ref_point, ref_q = direct.run(["point", "quantiles"], {"features": X})
    np.testing.assert_allclose(point, ref_point[:, 0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(quantiles, ref_q, rtol=1e-6, atol=1e-7)
    sigma = runtime.sigma_from_quantiles(quantiles)
    np.testing.assert_allclose(sigma, (ref_q[:, 2] - ref_q[:, 0]) / 2.5631032, rtol=1e-5)
    assert (quantiles[:, 0] <= quantiles[:, 1]).all() and (quantiles[:, 1] <= quantiles[:, 2]).all()


def test_it_predicts_in_batches_of_the_configured_size(tmp_path):
    install_models(tmp_path)
    with override_settings(INFERENCE_BATCH_SIZE=64):
        model = runtime.get_model("normal")
    assert model.batch.chosen == 64
    X = np.random.default_rng(0).normal(size=(1000, 20)).astype(np.float32)
    point, quantiles = model.predict(X)
    assert point.shape == (1000,) and quantiles.shape == (1000, 3)


def test_it_measures_the_batch_size_among_the_candidates(tmp_path):
    install_models(tmp_path)
    model = runtime.get_model("normal")
    assert model.batch.chosen in CANDIDATES
    assert set(model.batch.rows_per_s) == set(CANDIDATES)
    best = max(model.batch.rows_per_s.values())
    assert model.batch.rows_per_s[model.batch.chosen] >= 0.95 * best
    small = measure(model.session, "features", 20, (1, 2), budget_rows=4)
    assert small.chosen in (1, 2)


@override_settings(INFERENCE_DEVICE="cuda", ORT_INTRA_OP_THREADS=1)
def test_it_falls_back_to_cpu_and_sets_threads_explicitly(tmp_path):
    install_models(tmp_path)
    model = runtime.get_model("normal")
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    assert model.provider == ("CUDAExecutionProvider" if has_cuda else "CPUExecutionProvider")
    options = runtime.session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_it_refuses_a_missing_or_corrupt_model(tmp_path):
    versions = install_models(tmp_path)
    path = tmp_path / "normal" / "v1" / "model.onnx"
    path.write_bytes(b"not an onnx graph")
    with pytest.raises(runtime.ModelLoadError, match="cannot be served"):
        runtime.get_model("normal")
    path.unlink()
    with pytest.raises(runtime.ModelLoadError, match="missing"):
        runtime.get_model("normal")
    versions["earnings"].delete()
    with pytest.raises(runtime.ModelLoadError, match="no active earnings"):
        runtime.get_model("earnings")


def test_it_reports_the_device_and_batch_size_per_active_model(tmp_path):
    from predictions.pipeline.device_check import report

    install_models(tmp_path)
    ModelVersion.objects.filter(kind="earnings").delete()
    out = report()
    assert out["requested_providers"][-1] == "CPUExecutionProvider"
    assert out["models"]["normal"]["provider"] in out["available_providers"]
    assert out["models"]["normal"]["batch_size"]["chosen"] in CANDIDATES
    assert "no active earnings" in out["models"]["earnings"]["error"]
