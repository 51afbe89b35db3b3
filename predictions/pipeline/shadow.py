"""The live cycle's side of a model rollout (issue 22, ``predictions.rollout``).

For each kind with a rollout in progress, the cycle runs the active version AND the other
version of the rollout over the same symbols in the same batched pass (``RolloutPlan``):

- ``other_share`` of the symbols (a stable hash of the ticker, ``rollout.split``) are served by
  the other version (the canary), the rest by the active one;
- each version's forecast of the symbols it does NOT serve is a ``ShadowPart``: written to
  ``predictions_shadowrecord`` only, never to Redis, ``Prediction``, the Channels groups or
  ``PredictionRecord`` (nothing in this module touches those).

A rollout version that cannot be loaded is reported and left out: the active version keeps
serving every symbol."""

from __future__ import annotations

import contextvars
import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.db import DatabaseError, connection, transaction

from predictions.models import ModelVersion, RolloutStage
from predictions.pipeline.runtime import (
    LoadedModel,
    ModelLoadError,
    get_version_model,
    keep_side_models,
)
from predictions.pipeline.writer import fast_transaction


@dataclass(frozen=True)
class RolloutPlan:
    kind: str
    stage: str
    active_version: str  # the version the registry serves during this stage
    other: LoadedModel  # the rollout's other version (candidate, or the watched previous one)
    other_share: float  # share of symbols the other version serves (the canary share)

    def describe(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "active": self.active_version,
            "other": self.other.version,
            "other_share": self.other_share,
        }


@dataclass
class ShadowPart:
    """Forecasts of one version that are recorded but not served (aligned arrays)."""

    model_type: str
    model_version: str
    target_date: dt.date
    tickers: np.ndarray
    close: np.ndarray
    point: np.ndarray
    quantiles: np.ndarray  # (n, 3)

    def __len__(self) -> int:
        return len(self.tickers)


def _plan(rollout: Any, errors: list[str]) -> RolloutPlan | None:
    shadowed = rollout.stage in (RolloutStage.SHADOW, RolloutStage.CANARY)
    active: ModelVersion = rollout.previous if shadowed else rollout.candidate
    other: ModelVersion = rollout.candidate if shadowed else rollout.previous
    try:
        model = get_version_model(other)
    except ModelLoadError as exc:
        errors.append(f"{rollout.kind} rollout ({rollout.stage}): {exc}; not shadowed")
        return None
    share = float(rollout.share) if rollout.stage == RolloutStage.CANARY else 0.0
    return RolloutPlan(rollout.kind, rollout.stage, active.version, model, share)


def plans_for_cycle(errors: list[str]) -> dict[str, RolloutPlan]:
    """kind -> plan of every rollout in progress (one query); load errors go to ``errors``."""
    from predictions.rollout.stages import in_progress

    plans: dict[str, RolloutPlan] = {}
    for rollout in in_progress():
        plan = _plan(rollout, errors)
        if plan is not None:
            plans[rollout.kind] = plan
    keep_side_models({p.other.version_id for p in plans.values()})
    return plans


_SHADOW_SQL = """
INSERT INTO predictions_shadowrecord (
    symbol_id, data_timestamp, target_date, model_type, model_version, current_price,
    predicted_return_1d, p10, p50, p90, predicted_at)
SELECT s.id, %(data_timestamp)s, u.target_date, u.model_type, u.model_version, u.close,
       u.point, u.p10, u.p50, u.p90, %(predicted_at)s
FROM unnest(
    %(tickers)s::text[], %(target_date)s::date[], %(model_type)s::text[],
    %(model_version)s::text[], %(close)s::float8[], %(point)s::float8[], %(p10)s::float8[],
    %(p50)s::float8[], %(p90)s::float8[]
) AS u(ticker, target_date, model_type, model_version, close, point, p10, p50, p90)
JOIN ingestion_symbol s ON s.ticker = u.ticker
ON CONFLICT (model_type, model_version, data_timestamp, symbol_id) DO NOTHING
"""


def _column(parts: list[ShadowPart], value: Any) -> list[Any]:
    values: list[Any] = np.concatenate(
        [np.full(len(p), value(p), dtype=object) for p in parts]
    ).tolist()
    return values


def write_shadow(
    parts: list[ShadowPart], data_timestamp: dt.datetime, predicted_at: dt.datetime
) -> int:
    """One INSERT of every shadow forecast of the cycle; idempotent like the served records."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return 0
    q = np.round(np.concatenate([p.quantiles for p in parts]).astype(np.float64), 6)
    params = {
        "tickers": np.concatenate([p.tickers for p in parts]).astype(str).tolist(),
        "target_date": _column(parts, lambda p: p.target_date),
        "model_type": _column(parts, lambda p: p.model_type),
        "model_version": _column(parts, lambda p: p.model_version),
        "close": np.concatenate([p.close for p in parts]).astype(np.float64).tolist(),
        "point": np.round(np.concatenate([p.point for p in parts]).astype(np.float64), 6).tolist(),
        "p10": q[:, 0].tolist(),
        "p50": q[:, 1].tolist(),
        "p90": q[:, 2].tolist(),
        "data_timestamp": data_timestamp,
        "predicted_at": predicted_at,
    }
    with transaction.atomic():
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            # As the served write: no WAL flush wait, no per-row foreign-key triggers (every
            # symbol_id comes from the join with ingestion_symbol in the same statement).
            fast_transaction(cursor)
            cursor.execute(_SHADOW_SQL, params)
            return int(cursor.rowcount)


_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-shadow-write")


def _write_in_thread(
    parts: list[ShadowPart], data_timestamp: dt.datetime, predicted_at: dt.datetime
) -> tuple[int, float, str | None]:
    """(rows inserted, ms, error) on the helper thread's own connection, closed afterwards
    (no connection outlives the write: nothing holds the database between cycles)."""
    started = time.perf_counter()
    try:
        return write_shadow(parts, data_timestamp, predicted_at), _ms(started), None
    except DatabaseError as exc:
        return 0, _ms(started), f"shadow write: {exc}"
    finally:
        connection.close()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def submit(
    parts: list[ShadowPart], data_timestamp: dt.datetime, predicted_at: dt.datetime
) -> Future[tuple[int, float, str | None]] | None:
    """Write the shadow forecasts on a second PostgreSQL connection WHILE the served
    predictions are written (the two statements run in two server processes); None when
    there is nothing to write. A failure is reported, never raised: shadow rows are not what
    users get, and the served write decides whether the cycle is retried."""
    if not any(len(p) for p in parts):
        return None
    return _pool.submit(
        contextvars.copy_context().run, _write_in_thread, parts, data_timestamp, predicted_at
    )
