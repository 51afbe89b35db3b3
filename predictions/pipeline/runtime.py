"""ONNX Runtime sessions, loaded once per worker process per model version.

``get_model(kind)`` returns the session of the ACTIVE model version of ``kind``. It is cached
in the process and reloaded only when the active version changes or its file is replaced (path,
size and mtime are part of the cache key), so a 5,000-symbol cycle pays no load cost.

Provider: ``CUDAExecutionProvider`` when ``INFERENCE_DEVICE`` is ``auto``/``cuda`` and the
installed onnxruntime (onnxruntime-gpu from requirements-gpu.txt) offers it, CPU otherwise.
Thread counts are explicit (``ORT_INTRA_OP_THREADS``, one inter-op thread, no spinning): the
cores are shared with every other process of the platform.

A missing or corrupt artifact raises ``ModelLoadError``; the cycle reports it and keeps the
last good predictions (see ``predictions.pipeline.cycle``).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from django.conf import settings

from core.enums import TYPE_OF_KIND
from predictions.models import ModelVersion
from predictions.ood import OodStats
from predictions.pipeline.batching import BatchMeasurement, measure

logger = logging.getLogger(__name__)

MODEL_TYPE_OF_KIND = TYPE_OF_KIND
SIGMA_DIVISOR = 2 * 1.2815516  # (p90 - p10) / this = normal-equivalent sigma of the 80% interval
OUTPUTS = ("point", "quantiles")
# (version id, version, model path, size, mtime): a changed file is reloaded.
FileKey = tuple[int, str, str, int, int]


class ModelLoadError(RuntimeError):
    """The active model of a kind cannot be served (none active, file missing or corrupt)."""


class NoActiveModel(ModelLoadError):
    """The kind has no active version at all (e.g. a horizon model not trained yet)."""


@dataclass
class LoadedModel:
    kind: str
    version: str
    version_id: int
    file_key: FileKey
    session: ort.InferenceSession
    input_name: str
    features: list[str]
    model_type: str
    uncertainty_method: str
    provider: str
    batch: BatchMeasurement
    ood: OodStats | None = None  # out-of-distribution statistics of the version, if any

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point (N,), quantiles (N, 3)) for raw features ``X`` (N, F) in ``self.features``
        order, run in batches of the measured size."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        size = self.batch.chosen
        points, quantiles = [], []
        for start in range(0, len(X), size):
            point, q = self.session.run(list(OUTPUTS), {self.input_name: X[start : start + size]})
            points.append(point.reshape(-1))
            quantiles.append(q.reshape(-1, 3))
        if not points:
            return np.empty(0, np.float32), np.empty((0, 3), np.float32)
        return np.concatenate(points), np.concatenate(quantiles)


_cache: dict[str, LoadedModel] = {}
_lock = threading.Lock()


def providers() -> list[str]:
    available = ort.get_available_providers()
    device = settings.INFERENCE_DEVICE
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        logger.warning("INFERENCE_DEVICE=cuda but onnxruntime has no CUDA provider; using CPU")
    return ["CPUExecutionProvider"]


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.ORT_INTRA_OP_THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads would burn the shared cores between cycles.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def active_version(kind: str, *, only: tuple[str, ...] = ()) -> ModelVersion | None:
    from predictions.ml.registry import active_version as registry_active

    return registry_active(kind, only=only)


def _file_key(version: ModelVersion) -> FileKey:
    path = Path(version.artifact_path) / "model.onnx"
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelLoadError(f"{version.kind} {version.version}: {path} missing ({exc})") from exc
    return (version.pk, version.version, str(path), stat.st_size, stat.st_mtime_ns)


def _load(version: ModelVersion, file_key: FileKey) -> LoadedModel:
    directory = Path(version.artifact_path)
    label = f"{version.kind} {version.version}"
    try:
        metadata = json.loads((directory / "metadata.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{label}: metadata.json unreadable ({exc})") from exc
    features = list(metadata.get("features") or [])
    if not features:
        raise ModelLoadError(f"{label}: metadata.json lists no features")
    try:
        session = ort.InferenceSession(
            str(directory / "model.onnx"), sess_options=session_options(), providers=providers()
        )
        input_name = metadata.get("input_name", "features")
        names = {i.name for i in session.get_inputs()}
        outputs = {o.name for o in session.get_outputs()}
        if input_name not in names or not set(OUTPUTS) <= outputs:
            raise ModelLoadError(
                f"{label}: graph inputs {names} / outputs {outputs} break contract"
            )
        # One all-missing row: a graph that loads but cannot run fails here, not mid-cycle.
        session.run(list(OUTPUTS), {input_name: np.full((1, len(features)), np.nan, np.float32)})
    except ModelLoadError:
        raise
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelLoadError(f"{label}: model.onnx cannot be served ({exc})") from exc
    fixed = int(getattr(settings, "INFERENCE_BATCH_SIZE", 0))
    batch = (
        BatchMeasurement(chosen=fixed) if fixed > 0 else measure(session, input_name, len(features))
    )
    logger.info(
        "Loaded %s on %s, batch size %d (measured rows/s: %s)",
        label,
        session.get_providers()[0],
        batch.chosen,
        batch.as_dict()["rows_per_s"],
    )
    return LoadedModel(
        kind=version.kind,
        version=version.version,
        version_id=version.pk,
        file_key=file_key,
        session=session,
        input_name=input_name,
        features=features,
        model_type=metadata.get("model_type") or MODEL_TYPE_OF_KIND[version.kind],
        uncertainty_method=metadata.get("uncertainty_method", ""),
        provider=session.get_providers()[0],
        batch=batch,
        # The version's registry metadata first: statistics may be added after the artifact.
        ood=OodStats.from_metadata(
            (version.metadata or {}).get("ood") or metadata.get("ood"), len(features)
        ),
    )


# What each cycle's check of a kind's active version reads: parsing the JSON columns (up to
# 215 KB of out-of-distribution statistics) cost 3-13 ms a kind; the loader reads the metadata
# on access, i.e. only when the version changed.
_IDENTITY = ("pk", "kind", "version", "artifact_path")


def get_model(kind: str) -> LoadedModel:
    version = active_version(kind, only=_IDENTITY)
    if version is None:
        raise NoActiveModel(f"no active {kind} model version")
    key = _file_key(version)
    with _lock:
        cached = _cache.get(kind)
        if cached is not None and cached.file_key == key:
            return cached
        _cache.pop(kind, None)  # never serve a version that is no longer active
        loaded = _load(version, key)
        _cache[kind] = loaded
        return loaded


# Versions served beside the active one during a rollout (issue 22), by version id.
_side_cache: dict[int, LoadedModel] = {}


def get_version_model(version: ModelVersion) -> LoadedModel:
    """The session of a given (not necessarily active) version: a rollout's shadow or canary
    version, or the previous version watched after a promotion. Cached like ``get_model``;
    versions no longer asked for are dropped by ``keep_side_models``."""
    key = _file_key(version)
    with _lock:
        cached = _side_cache.get(version.pk)
        if cached is not None and cached.file_key == key:
            return cached
        loaded = _load(version, key)
        _side_cache[version.pk] = loaded
        return loaded


def keep_side_models(version_ids: set[int]) -> None:
    with _lock:
        for pk in set(_side_cache) - version_ids:
            del _side_cache[pk]


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _side_cache.clear()


def sigma_from_quantiles(quantiles: np.ndarray) -> np.ndarray:
    sigma: np.ndarray = (quantiles[:, 2] - quantiles[:, 0]) / SIGMA_DIVISOR
    return sigma
