"""The inputs a prediction was made from, read back from its features snapshot.

A ``Prediction`` row's ``features_snapshot`` holds the symbol's stored features of the cycle
(``pipeline.records.snapshot_json``; missing values left out). A model that ranks its inputs
across the day's symbols (``xs_rank:<feature>``) or within its sector (``sector_mean:<f>``,
``sector_rel:<f>``) also read those; they are not stored with every row, because every symbol of
the cycle is stored under the same ``data_timestamp``, so the day's derived inputs follow from
the rows themselves (and the symbols' sectors), computed by the serving code
(``ml.inputs.model_inputs``). Writing them would double the snapshot each cycle (docs/pipeline.md).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from features.definitions import ALL_FEATURES
from predictions.ml.inputs import NOT_RANKED, XS_RANK, model_inputs, sector_inputs

IGNORED_KEYS = frozenset({"data_timestamp", "close"})
# One snapshot value as float8 (NULL where missing or not a number); parameters: the key twice.
_NUMBER = (
    "CASE WHEN jsonb_typeof(p.features_snapshot -> %s) = 'number' "
    "THEN (p.features_snapshot ->> %s)::float8 END"
)


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
    """The derived inputs of ``symbol`` that it has a value of: ``xs_rank:<feature>`` ranked
    among the snapshots of every symbol predicted for the same ``data_timestamp`` (the cycle's
    universe) and the sector inputs over the same rows. Empty when the symbol's row has since
    moved on to a later cycle."""
    from django.db import connection

    from ingestion.sectors import sectors_of

    names = [n for n in ALL_FEATURES if n not in NOT_RANKED]
    # One float8[] per row, built by PostgreSQL: parsing 5,000 jsonb objects in Python cost
    # twice as much (docs/pipeline.md).
    values = ", ".join([_NUMBER] * len(names))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.ticker, ARRAY[{values}] FROM predictions_prediction p "
            "JOIN ingestion_symbol s ON s.id = p.symbol_id WHERE p.data_timestamp = %s",
            [*(n for name in names for n in (name, name)), data_timestamp],
        )
        rows = cursor.fetchall()
    tickers = [ticker for ticker, _ in rows]
    if symbol not in tickers:
        return {}
    x = np.array([row for _, row in rows], dtype=np.float64)
    derived = [f"{XS_RANK}{name}" for name in names] + sector_inputs()
    sectors = sectors_of(np.array(tickers))  # as the cycle read them
    out = model_inputs(x, names, derived, sectors=sectors)[tickers.index(symbol)]
    return {name: float(v) for name, v in zip(derived, out, strict=True) if np.isfinite(v)}


def inputs_of(symbol: str, data_timestamp: dt.datetime | None, snapshot: Any) -> dict[str, float]:
    """The model inputs of a prediction: its snapshot's stored features and their per-day ranks
    (older snapshots that stored the ranks themselves keep theirs)."""
    features = numbers(snapshot) if isinstance(snapshot, dict) else {}
    if features and data_timestamp is not None:
        features = day_ranks(symbol, data_timestamp) | features
    return features
