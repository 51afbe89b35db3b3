"""Helpers of the rollout tests (issue 22): candidate versions of the toy contract model, a
deliberately worse one, and realised outcomes of a cycle's target day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from features.definitions import ALL_FEATURES, TECHNICAL_FEATURES
from ingestion.models import PriceBar, Symbol
from predictions.models import ModelStatus, ModelVersion
from predictions.pipeline import toy_model
from predictions.pipeline.days import day_timestamp

FEATURES = {"earnings": list(ALL_FEATURES)}


def candidate(root: Path, kind: str, version: str, *, seed: int = 5, bias: float | None = None):
    """A registered, NOT active version of ``kind``; ``bias`` adds a constant predicted return
    (a deliberately worse model when it is large)."""
    features = FEATURES.get(kind, list(TECHNICAL_FEATURES))
    directory = Path(root) / kind / version
    metadata = toy_model.write_artifact(directory, kind, version, features, seed)
    if bias is not None:
        path = directory / "model.onnx"
        graph = onnx.load(str(path))
        for i, init in enumerate(graph.graph.initializer):
            if init.name == "b":
                new = numpy_helper.from_array(np.array([bias], np.float32), "b")
                graph.graph.initializer[i].CopyFrom(new)
        onnx.save(graph, str(path))
    return ModelVersion.objects.create(
        kind=kind, version=version, artifact_path=str(directory), metadata=metadata,
        status=ModelStatus.CANDIDATE,
    )  # fmt: skip


def realise_day(day: dt.date, tickers: list[str], seed: int = 1) -> None:
    """Bars of ``day`` whose closes move each symbol by a small random return from whatever
    close its predictions started from (the records' current_price)."""
    from predictions.models import PredictionRecord, ShadowRecord

    rng = np.random.default_rng(seed)
    start: dict[str, float] = {}
    for model in (PredictionRecord, ShadowRecord):
        start.update(
            model.objects.filter(target_date=day, symbol__ticker__in=tickers).values_list(
                "symbol__ticker", "current_price"
            )
        )
    ids = dict(Symbol.objects.filter(ticker__in=list(start)).values_list("ticker", "id"))
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol_id=ids[t], timestamp=day_timestamp(day), open=c, high=c, low=c,
            close=c * (1 + rng.normal(0, 0.01)), volume=1e6, source="test",
        )
        for t, c in start.items()
    )  # fmt: skip
