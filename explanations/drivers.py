"""Key drivers from the model itself, by occlusion on the active ONNX graph.

For a prediction with inputs x, stored feature i's contribution is f(x) - f(x with x_i replaced
by its baseline), where f is the graph's ``point`` output; a feature's derived inputs (its per-day
rank ``xs_rank:<feature>`` and, for the returns, its sector's mean ``sector_mean:<feature>`` and
its distance from it ``sector_rel:<feature>``; ``predictions.snapshots``) are replaced with it,
so each driver is one stored feature with its whole effect, its sector's move included. The
baseline is the training median when ``metadata["feature_medians"]`` lists it, else NaN: the
graph imputes missing inputs itself (artifact contract), so NaN means "the value the model
assumes when it knows nothing". All F occlusions run as one batch of F+1 rows. Contributions
are in return units and, because the graph is non-linear, need not add up to the prediction.
"""

from __future__ import annotations

import json
import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from explanations.facts import feature_kind, format_value
from features.definitions import FEATURE_LABELS

if TYPE_CHECKING:
    import onnxruntime

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _session(path: str) -> onnxruntime.InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = getattr(settings, "ORT_INTRA_OP_THREADS", 1)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def model_for(model_type: str, version: str | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The ONNX file and metadata of the version that made the prediction (else the active
    version of its kind)."""
    from predictions.ml.registry import active_version
    from predictions.models import ModelVersion

    kind = "earnings" if model_type == "earnings_day" else "normal"
    mv = None
    if version:
        mv = ModelVersion.objects.filter(kind=kind, version=version).first()
    if mv is None:
        mv = active_version(kind)
    if mv is None:
        return None
    directory = Path(mv.artifact_path)
    onnx_path = directory / "model.onnx"
    if not onnx_path.exists():
        return None
    meta_path = directory / "metadata.json"
    metadata = json.loads(meta_path.read_text()) if meta_path.exists() else dict(mv.metadata)
    return onnx_path, metadata


def occlusion(
    onnx_path: Path, metadata: dict[str, Any], features: dict[str, float]
) -> tuple[float, list[tuple[str, float, float]]]:
    """(model output at x, [(stored feature, value, contribution)]) in the model's order."""
    from predictions.ml.inputs import base_name

    names: list[str] = list(metadata["features"])
    input_name = metadata.get("input_name", "features")
    medians = metadata.get("feature_medians") or {}
    if not isinstance(medians, dict):
        medians = {}
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(base_name(name), []).append(i)
    x = np.array([features.get(n, np.nan) for n in names], dtype=np.float32)
    batch = np.repeat(x[None, :], len(groups) + 1, axis=0)
    for row, columns in enumerate(groups.values(), start=1):
        for i in columns:
            batch[row, i] = medians.get(names[i], np.nan)
    with _lock:
        point = _session(str(onnx_path)).run(["point"], {input_name: batch})[0].reshape(-1)
    out = []
    for row, feature in enumerate(groups, start=1):
        value = float(features.get(feature, np.nan))
        contribution = 0.0 if math.isnan(value) else float(point[0] - point[row])
        out.append((feature, value, contribution))
    return float(point[0]), out


def key_drivers(
    features: dict[str, float], model_type: str, version: str | None = None, top: int = 5
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``top`` features by absolute contribution, each with its value and signed
    contribution, and a note on how they were computed."""
    found = model_for(model_type, version)
    if found is None:
        return [], {"method": "occlusion", "available": False, "reason": "no ONNX model"}
    onnx_path, metadata = found
    base, contributions = occlusion(onnx_path, metadata, features)
    ranked = sorted(
        (c for c in contributions if c[2] != 0.0 and not math.isnan(c[1])),
        key=lambda c: abs(c[2]),
        reverse=True,
    )[:top]
    drivers = []
    for name, value, contribution in ranked:
        label = FEATURE_LABELS.get(name, name)
        kind = feature_kind(name)
        direction = "up" if contribution > 0 else "down"
        drivers.append(
            {
                "feature": name,
                "label": label,
                "value": round(value, 6),
                "display_value": format_value(value, kind),
                "contribution": round(contribution, 6),
                "direction": direction,
                "text": (
                    f"{label} {format_value(value, kind)} "
                    f"(moves the forecast {direction} by {abs(contribution) * 100:.2f}%)"
                ),
            }
        )
    info = {
        "method": "occlusion",
        "available": True,
        "baseline": "training median" if metadata.get("feature_medians") else "NaN (imputed)",
        "model_output": round(base, 6),
        "model_path": str(onnx_path),
    }
    return drivers, info
