"""Artifact directory layout, version names, data fingerprint and metadata.json."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

METADATA = "metadata.json"
ONNX = "model.onnx"
KERAS = "model.keras"
LIGHTGBM = "lightgbm.txt"


def new_version(kind: str) -> str:
    """Sortable, e.g. v20250709-101530 (v20250709-101530-5d for the 5-day model); a suffix
    keeps two trainings in one second apart."""
    from core.enums import HORIZON_OF_KIND
    from predictions.models import ModelVersion

    base = datetime.now(UTC).strftime("v%Y%m%d-%H%M%S")
    if HORIZON_OF_KIND.get(kind, 1) > 1:
        # Records are unique by (symbol, data_timestamp, model_version): a horizon model's
        # version may never equal a one-day model's, even when trained in the same second.
        base += f"-{HORIZON_OF_KIND[kind]}d"
    version, n = base, 1
    while (
        artifact_dir(kind, version).exists()
        or ModelVersion.objects.filter(kind=kind, version=version).exists()
    ):
        n += 1
        version = f"{base}-{n}"
    return version


def artifact_dir(kind: str, version: str) -> Path:
    return Path(settings.MODELS_DIR) / kind / version


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def panel_sha256(panel: Any) -> str:
    digest = hashlib.sha256()
    for arr in (panel.tickers.astype("U16"), panel.dates, panel.close, panel.volume):
        digest.update(arr.tobytes())
    return digest.hexdigest()


def data_fingerprint(prices_sha256: str, features: list[str], window: dict[str, Any]) -> str:
    payload = json.dumps(
        {"prices_sha256": prices_sha256, "features": features, "window": window}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def write_metadata(directory: Path, metadata: dict[str, Any]) -> Path:
    path = directory / METADATA
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))
    return path


def read_metadata(directory: Path | str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((Path(directory) / METADATA).read_text())
    return value
