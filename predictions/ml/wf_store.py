"""Owner of the stored walk-forward results: ``VAR_DIR/walkforward/<kind>/``.

- ``walkforward.json``: the command's JSON result (years, summary, config, machine).
- ``predictions.csv.gz``: one row per (symbol, test day) with the walk-forward forecasts
  (columns in docs/models.md); gzip CSV because pyarrow (parquet) is not installed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings

RESULT = "walkforward.json"
PREDICTIONS = "predictions.csv.gz"
COLUMNS = (
    "symbol", "date", "year", "model", "point", "p10", "p50", "p90", "realised",
    "lightgbm", "reversal", "ewma_sigma", "horizon", "momentum", "momentum_12_1",
)  # fmt: skip


def directory(kind: str) -> Path:
    return Path(settings.VAR_DIR) / "walkforward" / kind


def save(kind: str, result: dict[str, Any], rows: pd.DataFrame) -> Path:
    """Writes both files (the result first refers to the predictions file); returns its path."""
    folder = directory(kind)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PREDICTIONS
    frame = rows.reindex(columns=list(COLUMNS)) if len(rows) else pd.DataFrame(columns=COLUMNS)
    frame.to_csv(path, index=False, compression="gzip", float_format="%.8g")
    stored = {**result, "predictions_file": str(path)}
    (folder / RESULT).write_text(json.dumps(stored, indent=1, default=str))
    return path


def load(kind: str) -> dict[str, Any] | None:
    path = directory(kind) / RESULT
    if not path.exists():
        return None
    value: dict[str, Any] = json.loads(path.read_text())
    return value


def load_predictions(kind: str) -> pd.DataFrame | None:
    path = directory(kind) / PREDICTIONS
    return pd.read_csv(path) if path.exists() else None


def active_results() -> dict[str, dict[str, Any] | None]:
    """Per kind: the stored walk-forward result (without the machine-local file path), the
    active version of the kind, and whether the run used the active model's inputs."""
    from predictions.ml.registry import active_version

    out: dict[str, dict[str, Any] | None] = {}
    from predictions.ml.data import ALL_KINDS

    for kind in ALL_KINDS:  # the one-day kinds, then the longer horizons (issue 19)
        stored = load(kind)
        if stored is None:
            out[kind] = None
            continue
        mv = active_version(kind)
        active_inputs = (mv.metadata or {}).get("features") if mv else None
        stored.pop("predictions_file", None)
        stored["active_version"] = mv.version if mv else None
        stored["inputs_match_active_model"] = (
            None if active_inputs is None else active_inputs == stored["config"].get("inputs")
        )
        # The same inputs with another point head (network vs a LightGBM blend) is another model.
        stored["point_model_match_active_model"] = (
            None if mv is None else _point_model(mv.metadata) == _stored_point_model(stored)
        )
        out[kind] = stored
    return out


def _point_model(metadata: dict[str, Any] | None) -> str:
    # ``train.point_model_metadata``: a dict in every version trained since the point heads.
    return str(((metadata or {}).get("point_model") or {}).get("point_model", "network"))


def _stored_point_model(stored: dict[str, Any]) -> str:
    return str(stored.get("config", {}).get("point_model") or "network")
