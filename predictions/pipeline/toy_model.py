"""A small REAL ONNX model that meets the artifact contract, for tests and the benchmark when
no trained model is active.

Graph: ``features`` float32 [batch, F] raw values, NaN allowed -> NaN imputed to 0 -> linear
``point`` [batch, 1] -> ``quantiles`` [batch, 3] = point -/+ (|x . v| + base spread), so
p10 <= p50 <= p90 by construction. Built with ``onnx.helper``; served by the same ONNX Runtime
code path as trained models. It predicts nothing useful: it exists so the pipeline can be
exercised end to end before (or without) a trained model.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from django.db import transaction
from django.utils import timezone
from onnx import TensorProto, helper, numpy_helper

from core.enums import TYPE_OF_KIND
from predictions.models import ModelStatus, ModelVersion

MODEL_TYPE = TYPE_OF_KIND


def build_graph(n_features: int, *, seed: int = 0, base_spread: float = 0.01) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    w = (rng.normal(size=(n_features, 1)) * 1e-3).astype(np.float32)
    v = (np.abs(rng.normal(size=(n_features, 1))) * 1e-3).astype(np.float32)
    inits = [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(v, "v"),
        numpy_helper.from_array(np.array([1e-4], np.float32), "b"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array([base_spread], np.float32), "spread0"),
    ]
    nodes = [
        helper.make_node("IsNaN", ["features"], ["nan_mask"]),
        helper.make_node("Where", ["nan_mask", "zero", "features"], ["x"]),
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["point"]),
        helper.make_node("MatMul", ["x", "v"], ["xv"]),
        helper.make_node("Abs", ["xv"], ["abs_xv"]),
        helper.make_node("Add", ["abs_xv", "spread0"], ["spread"]),
        helper.make_node("Sub", ["point", "spread"], ["q10"]),
        helper.make_node("Add", ["point", "spread"], ["q90"]),
        helper.make_node("Concat", ["q10", "point", "q90"], ["quantiles"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "toy_contract_model",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_features])],
        [
            helper.make_tensor_value_info("point", TensorProto.FLOAT, ["batch", 1]),
            helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", 3]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def write_artifact(
    directory: Path, kind: str, version: str, features: list[str], seed: int = 0
) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(build_graph(len(features), seed=seed), str(directory / "model.onnx"))
    metadata = {
        "kind": kind,
        "version": version,
        "model_type": MODEL_TYPE[kind],
        "features": list(features),
        "input_name": "features",
        "outputs": {"point": [None, 1], "quantiles": [None, 3]},
        "training_window": None,
        "data_fingerprint": "toy",
        "metrics": {},
        "parity": {"max_abs_diff": 0.0},
        "calibration": None,
        "sigma_method": "(p90 - p10) / (2 * 1.2815516)",
        "uncertainty_method": "toy_linear_spread",
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    (directory / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return metadata


def install(
    root: Path, kind: str, version: str, features: list[str], *, seed: int = 0
) -> ModelVersion:
    """Write the artifact under ``root/<kind>/<version>/`` and make it the ACTIVE version."""
    directory = Path(root) / kind / version
    metadata = write_artifact(directory, kind, version, features, seed)
    with transaction.atomic():
        ModelVersion.objects.filter(kind=kind, status=ModelStatus.ACTIVE).update(
            status=ModelStatus.RETIRED
        )
        mv, _ = ModelVersion.objects.update_or_create(
            kind=kind,
            version=version,
            defaults={
                "artifact_path": str(directory),
                "metadata": metadata,
                "status": ModelStatus.ACTIVE,
                "activated_at": timezone.now(),
                "notes": "toy contract model (predictions.pipeline.toy_model)",
            },
        )
    return mv
