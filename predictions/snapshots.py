"""The inputs a prediction was made from, read back from its features snapshot.

A ``Prediction`` row's ``features_snapshot`` holds the symbol's stored features of the cycle
(``pipeline.records.snapshot_json``; missing values left out). A model that ranks its inputs
across the day's symbols (``xs_rank:<feature>``) also read those ranks; they are not stored with
every row, because every symbol of the cycle is stored under the same ``data_timestamp``, so
the day's ranks follow from the rows themselves, computed by the serving code
(``ml.inputs.model_inputs``). Writing them would double the snapshot each cycle (docs/pipeline.md).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from predictions.ml.inputs import NOT_RANKED, XS_RANK, model_inputs

IGNORED_KEYS = frozenset({"data_timestamp", "close"})


def numbers(values: dict[str, Any]) -> dict[str, float]:
    """The finite numeric entries of a snapshot (or a ``features:{SYMBOL}`` hash)."""
    out: dict[str, float] = {}
    for key, value in values.items():
        if key in IGNORED_KEYS or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[key] = number
    return out


def day_ranks(symbol: str, data_timestamp: dt.datetime) -> dict[str, float]:
    """``xs_rank:<feature>`` of ``symbol`` for each stored feature of its snapshot, ranked among
    the snapshots of every symbol predicted for the same ``data_timestamp`` (the cycle's
    universe). Empty when the symbol's row has since moved on to a later cycle."""
    from predictions.models import Prediction

    rows = list(
        Prediction.objects.filter(data_timestamp=data_timestamp).values_list(
            "symbol__ticker", "features_snapshot"
        )
    )
    tickers = [ticker for ticker, _ in rows]
    if symbol not in tickers:
        return {}
    own = rows[tickers.index(symbol)][1] or {}
    names = sorted(k for k in numbers(own) if not k.startswith(XS_RANK) and k not in NOT_RANKED)
    if not names:
        return {}
    x = np.array(
        [[_value(snapshot, name) for name in names] for _, snapshot in rows], dtype=np.float64
    )
    ranked = [f"{XS_RANK}{name}" for name in names]
    values = model_inputs(x, names, ranked)[tickers.index(symbol)]
    return {name: float(v) for name, v in zip(ranked, values, strict=True) if np.isfinite(v)}


def inputs_of(symbol: str, data_timestamp: dt.datetime | None, snapshot: Any) -> dict[str, float]:
    """The model inputs of a prediction: its snapshot's stored features and their per-day ranks
    (older snapshots that stored the ranks themselves keep theirs)."""
    features = numbers(snapshot) if isinstance(snapshot, dict) else {}
    if features and data_timestamp is not None:
        features = day_ranks(symbol, data_timestamp) | features
    return features


def _value(snapshot: Any, name: str) -> float:
    value = snapshot.get(name) if isinstance(snapshot, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)
