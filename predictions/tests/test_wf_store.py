"""The stored walk-forward results next to the active model (``wf_store.active_results``)."""

from __future__ import annotations

import pandas as pd
import pytest

from predictions.ml import wf_store
from predictions.models import ModelVersion

pytestmark = pytest.mark.django_db

INPUTS = ["return_1d", "return_5d"]


def _store(point_model: str | None) -> None:
    config = {"inputs": INPUTS, **({"point_model": point_model} if point_model else {})}
    wf_store.save("normal", {"years": [], "summary": {}, "config": config}, pd.DataFrame())


def _activate(point_model: dict[str, object] | None) -> None:
    metadata = {"features": INPUTS, **({"point_model": point_model} if point_model else {})}
    ModelVersion.objects.create(
        kind="normal", version="v1", artifact_path="/x", status="active", metadata=metadata
    )


@pytest.mark.parametrize(
    ("stored", "active", "match"),
    [
        ("network", {"point_model": "network"}, True),
        ("blend", {"point_model": "blend", "lightgbm_weight": 0.2}, True),
        ("network", {"point_model": "blend", "lightgbm_weight": 0.2}, False),
        (None, None, True),  # runs and models from before the point heads: both the network
    ],
)
def test_it_says_whether_the_run_used_the_active_point_head(
    settings, tmp_path, stored, active, match
):
    settings.VAR_DIR = tmp_path
    _store(stored)
    _activate(active)
    result = wf_store.active_results()["normal"]
    assert result is not None
    assert result["inputs_match_active_model"] is True
    assert result["point_model_match_active_model"] is match


def test_it_has_nothing_to_compare_without_an_active_version(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _store("blend")
    result = wf_store.active_results()["normal"]
    assert result is not None and result["point_model_match_active_model"] is None
    assert wf_store.active_results()["earnings"] is None
