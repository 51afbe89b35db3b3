"""One prediction cycle, stage by stage, with per-stage timings.

    route -> inference -> [write_postgres || write_redis -> publish] -> realise -> status

- route: earnings calendar -> earnings model, the rest -> normal model;
- inference: each kind's ACTIVE model (process-cached ONNX session), batched; then the
  longer-horizon models (5 and 20 trading days) over the same feature matrix for every symbol
  the one-day models served (left out when not registered: one-day forecasts only);
- write_postgres (durable) runs while a helper thread does write_redis (cache) and then
  publish (Channels): PostgreSQL spends the statement's time in its own process, so the fast
  layer is nearly free. Redelivery after a PostgreSQL failure rewrites the same Redis values;
- realise: accuracy tracking, outcomes of earlier predictions whose target day just arrived;
  it runs on a second connection beside inference and the dual write (``realise.py``) and is
  joined after them, before the day's outcomes move the interval state.

Faults are reported, not hidden: a model that cannot be loaded leaves its symbols on their last good
predictions (re-put into Redis from PostgreSQL, predicted_at unchanged, so
``predictions.latest.is_stale`` turns true after PREDICTION_STALE_SECONDS) - except that earnings-
day symbols fall back to the normal model when only the earnings model is broken. A Redis outage
skips the Redis write and the publish; PostgreSQL still gets every prediction. Every error is logged
and recorded (``status.record``). PostgreSQL failures raise, and the task retries with a backoff
(``predictions.tasks.pipeline``: a raised task is acknowledged, never redelivered by Celery)."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import redis
from django.utils import timezone

from core import metrics
from core.enums import KIND_OF_HORIZON
from predictions.interval_state import served_for_cycle, update_after_realise
from predictions.intervals import Served
from predictions.pipeline import failpoints, publisher, status, writer
from predictions.pipeline.days import day_timestamp, trading_day_after
from predictions.pipeline.realise import Realisation
from predictions.pipeline.records import HorizonPart, PredictionBatch, snapshot_json
from predictions.pipeline.routing import Routing, route
from predictions.pipeline.runtime import (
    LoadedModel,
    ModelLoadError,
    NoActiveModel,
    get_model,
    sigma_from_quantiles,
)
from predictions.pipeline.shadow import RolloutPlan, ShadowPart, plans_for_cycle
from predictions.pipeline.shadow import submit as submit_shadow
from predictions.rollout.split import in_canary

logger = logging.getLogger(__name__)


@dataclass
class CycleInput:
    """Features of every symbol after the close of ``data_date`` (raw values, NaN = missing)."""

    data_date: dt.date
    tickers: np.ndarray  # (S,) str
    X: np.ndarray  # (S, F) float, columns named by feature_names
    feature_names: list[str]
    close: np.ndarray  # (S,) close of data_date
    # Per-day derived inputs already computed this cycle (models share their inputs).
    ranks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # (S,) each symbol's GICS sector, read when a model first needs it (sector inputs).
    sectors: np.ndarray | None = field(default=None, repr=False)


@dataclass
class CycleResult:
    data_date: dt.date
    target_date: dt.date | None = None
    n_symbols: int = 0
    n_earnings: int = 0
    n_predicted: int = 0
    records_inserted: int = 0
    horizon_records_inserted: int = 0
    shadow_records_inserted: int = 0  # unserved forecasts of rollout versions (issue 22)
    redis_written: int = 0
    published: int = 0
    realised: int = 0
    stages_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)
    batch_sizes: dict[str, int] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)
    rollouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_ms(self) -> float:
        """Wall time (write_postgres, write_redis and publish overlap inside dual_write)."""
        overlapped = {"write_postgres", "write_redis", "publish", "write_shadow"}
        return sum(v for k, v in self.stages_ms.items() if k not in overlapped)

    def summary(self) -> dict[str, Any]:
        return {
            "data_date": self.data_date.isoformat(),
            "target_date": self.target_date.isoformat() if self.target_date else None,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "ok": self.ok,
            "n_symbols": self.n_symbols,
            "n_earnings": self.n_earnings,
            "n_predicted": self.n_predicted,
            "records_inserted": self.records_inserted,
            "horizon_records_inserted": self.horizon_records_inserted,
            "shadow_records_inserted": self.shadow_records_inserted,
            "rollouts": self.rollouts,
            "redis_written": self.redis_written,
            "published": self.published,
            "realised": self.realised,
            "model_versions": self.model_versions,
            "batch_sizes": self.batch_sizes,
            "providers": self.providers,
            "stages_ms": self.stages_ms,
            "errors": self.errors,
        }


class _Stages:
    def __init__(self, result: CycleResult) -> None:
        self.result = result

    def __call__(self, name: str) -> _Stage:
        return _Stage(self.result, name)


class _Stage:
    def __init__(self, result: CycleResult, name: str) -> None:
        self.result, self.name = result, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = (time.perf_counter() - self.started) * 1000
        self.result.stages_ms[self.name] = round(elapsed, 2)


def _inputs(model: LoadedModel, inp: CycleInput) -> np.ndarray:
    """The model's input columns for EVERY symbol of the day, through the shared training and
    serving path (cross-sectional inputs rank a symbol against the whole day's universe)."""
    from ingestion.sectors import sectors_of
    from predictions.ml.inputs import model_inputs, needs_sectors

    if inp.sectors is None and needs_sectors(model.features):
        inp.sectors = sectors_of(inp.tickers)
    try:
        return model_inputs(
            inp.X, inp.feature_names, model.features, ranks=inp.ranks, sectors=inp.sectors
        )
    except KeyError as exc:
        raise ModelLoadError(f"{model.kind} {model.version}: {exc.args[0]}") from exc


def _model_groups(
    routing: Routing, result: CycleResult
) -> list[tuple[str, LoadedModel | None, np.ndarray]]:
    """(routed kind, model, mask of the symbols it serves): the normal model first, then the
    earnings-day one (the normal one stands in when it cannot load); None: no model could load.
    The routed kind labels the inference errors of symbols no model served."""
    normal_model: LoadedModel | None = None
    try:
        normal_model = get_model("normal")
    except ModelLoadError as exc:
        result.errors.append(f"normal model: {exc}")
    groups: list[tuple[str, LoadedModel | None, np.ndarray]] = []
    earnings = routing.is_earnings
    if earnings.any():
        try:
            groups.append(("earnings", get_model("earnings"), earnings))
        except ModelLoadError as exc:
            result.errors.append(f"earnings model: {exc}; earnings-day symbols use the normal one")
            groups.append(("earnings", normal_model, earnings))
    groups.insert(0, ("normal", normal_model, ~earnings))
    return groups


def _predict_group(
    inp: CycleInput,
    model: LoadedModel,
    rows: np.ndarray,
    served: Served,
    result: CycleResult,
    record: bool = True,
) -> tuple[dict[str, Any], np.ndarray]:
    """One model's part of the cycle; returns it and the rows it could not serve. ``record``
    False: a rollout's other version (its version is not the kind's in the cycle summary)."""
    X = _inputs(model, inp)[rows]
    with metrics.timed(metrics.INFERENCE_BATCH_SECONDS, kind=model.kind):
        point, raw_quantiles = model.predict(X)
    # The online calibration rescales the offline interval around p50 (predictions.intervals).
    quantiles, method = served.apply(raw_quantiles, model.uncertainty_method)
    close = inp.close[rows]
    valid = (
        np.isfinite(point) & np.isfinite(quantiles).all(axis=1) & np.isfinite(close) & (close > 0)
    )
    if not valid.all():
        result.errors.append(
            f"{model.kind} {model.version}: {int((~valid).sum())} symbols without a finite "
            "prediction or close"
        )
        metrics.INFERENCE_ERRORS.labels(kind=model.kind).inc(int((~valid).sum()))
    metrics.INFERENCE_ROWS.labels(kind=model.kind).inc(int(valid.sum()))
    # Inputs unlike the training data (predictions.ood): one matrix product for the group.
    ood = model.ood.score(X) if model.ood is not None else np.full(len(rows), np.nan)
    if record:
        result.model_versions[model.kind] = model.version
        result.batch_sizes[model.kind] = model.batch.chosen
        result.providers[model.kind] = model.provider
    part = {
        "rows": rows[valid],
        "point": point[valid].astype(np.float64),
        "quantiles": quantiles[valid].astype(np.float64),
        "close": close[valid].astype(np.float64),
        "model": model,
        "method": method,
        "ood_score": ood[valid],
        "ood_flagged": model.ood.flagged(ood[valid])
        if model.ood
        else np.zeros(len(rows[valid]), bool),
    }
    return part, rows[~valid]


def _unserved(kind: str, mask: np.ndarray) -> np.ndarray:
    metrics.INFERENCE_ERRORS.labels(kind=kind).inc(int(mask.sum()))
    return mask


_PART_ARRAYS = ("rows", "point", "quantiles", "close", "ood_score", "ood_flagged")


def _subset(part: dict[str, Any], keep: np.ndarray) -> dict[str, Any]:
    return {**part, **{name: part[name][keep] for name in _PART_ARRAYS}}


def _shadow_of(inp: CycleInput, part: dict[str, Any], target: dt.date) -> ShadowPart:
    model: LoadedModel = part["model"]
    return ShadowPart(
        model_type=model.model_type,
        model_version=model.version,
        target_date=target,
        tickers=inp.tickers[part["rows"]],
        close=part["close"],
        point=part["point"],
        quantiles=part["quantiles"],
    )


def _plan_for(plans: dict[str, RolloutPlan], kind: str, model: LoadedModel) -> RolloutPlan | None:
    """The rollout plan of a group, if its model is the version the plan expects to be active
    (not when the normal model stands in for a broken earnings model, say)."""
    plan = plans.get(kind)
    if plan is None or model.kind != kind or model.version != plan.active_version:
        return None
    return plan


def _predict_rollout(
    inp: CycleInput,
    model: LoadedModel,
    plan: RolloutPlan,
    rows: np.ndarray,
    served: Served,
    result: CycleResult,
    target: dt.date,
) -> tuple[list[dict[str, Any]], np.ndarray, list[ShadowPart]]:
    """Both versions of a rollout over the same rows: each serves its symbols (the canary
    share by ticker hash goes to the other version) and shadows the rest."""
    canary_rows = rows[in_canary(inp.tickers[rows].tolist(), plan.other_share)]
    active, missed = _predict_group(inp, model, rows, served, result)
    other, other_missed = _predict_group(
        inp, plan.other, rows, Served(None, f"rollout {plan.stage}"), result, record=False
    )
    a_canary = np.isin(active["rows"], canary_rows)
    o_canary = np.isin(other["rows"], canary_rows)
    served_parts = [_subset(active, ~a_canary), _subset(other, o_canary)]
    shadows = [
        _shadow_of(inp, _subset(active, a_canary), target),
        _shadow_of(inp, _subset(other, ~o_canary), target),
    ]
    missed = np.concatenate(
        [missed[~np.isin(missed, canary_rows)], other_missed[np.isin(other_missed, canary_rows)]]
    )
    result.rollouts[plan.kind] = plan.describe() | {"other_served": int(o_canary.sum())}
    return [p for p in served_parts if len(p["rows"])], missed, shadows


def _infer(
    inp: CycleInput,
    routing: Routing,
    result: CycleResult,
    plans: dict[str, RolloutPlan],
) -> tuple[list[dict[str, Any]], np.ndarray, list[ShadowPart]]:
    """Per-kind predictions; returns the served parts, the mask of symbols left unpredicted
    and the unserved forecasts of rollout versions."""
    parts: list[dict[str, Any]] = []
    shadows: list[ShadowPart] = []
    unserved = np.zeros(len(inp.tickers), dtype=bool)
    groups = [(k, m, mask) for k, m, mask in _model_groups(routing, result) if mask.any()]
    versions = {m.kind: m.version for _, m, _ in groups if m is not None}
    served = served_for_cycle(versions, inp.data_date)
    for kind, model, mask in groups:
        if model is None:
            unserved |= _unserved(kind, mask)
            continue
        rows, plan = np.flatnonzero(mask), _plan_for(plans, kind, model)
        try:
            if plan is None:
                part, missed = _predict_group(inp, model, rows, served[model.kind], result)
                group_parts = [part]
            else:
                group_parts, missed, extra = _predict_rollout(
                    inp, model, plan, rows, served[model.kind], result, routing.target_date
                )
                shadows.extend(extra)
        except ModelLoadError as exc:
            result.errors.append(str(exc))
            unserved |= _unserved(kind, mask)
            continue
        unserved[missed] = True
        parts.extend(group_parts)
    return parts, unserved, shadows


def _momentum(inp: CycleInput, h: int, rows: np.ndarray) -> np.ndarray:
    """The momentum baseline of horizon h: the stored trailing h-day return (return_5d,
    return_20d), NaN when the feature set has no such column."""
    name = f"return_{h}d"
    if name not in inp.feature_names:
        return np.full(len(rows), np.nan)
    values: np.ndarray = inp.X[rows, inp.feature_names.index(name)].astype(np.float64)
    return values


def _horizon_part(
    inp: CycleInput,
    h: int,
    model: LoadedModel,
    rows: np.ndarray,
    result: CycleResult,
    keep: np.ndarray | None = None,
) -> tuple[HorizonPart, ShadowPart]:
    """One h-day model over the batch's ``rows``: the part it serves (batch positions where
    ``keep``, all when None) and the unserved rest as a shadow part."""
    point, quantiles = model.predict(_inputs(model, inp)[rows])
    valid = np.isfinite(point) & np.isfinite(quantiles).all(axis=1)
    if not valid.all():
        result.errors.append(
            f"{model.kind} {model.version}: {int((~valid).sum())} symbols without a finite "
            "prediction"
        )
    target = trading_day_after(inp.data_date, h)
    serve = valid if keep is None else valid & keep
    shadow = valid & ~serve
    part = HorizonPart(
        horizon=h,
        model_type=model.model_type,
        model_version=model.version,
        uncertainty_method=model.uncertainty_method,
        target_date=target,
        rows=np.flatnonzero(serve),
        point=point[serve],
        quantiles=quantiles[serve],
        baseline=_momentum(inp, h, rows[serve]),
    )
    unserved = ShadowPart(
        model_type=model.model_type,
        model_version=model.version,
        target_date=target,
        tickers=inp.tickers[rows[shadow]],
        close=inp.close[rows[shadow]].astype(np.float64),
        point=point[shadow],
        quantiles=quantiles[shadow],
    )
    return part, unserved


def _horizon_kind(
    inp: CycleInput,
    h: int,
    model: LoadedModel,
    rows: np.ndarray,
    result: CycleResult,
    plan: RolloutPlan | None,
) -> tuple[list[HorizonPart], list[ShadowPart]]:
    """One horizon's parts: the active model alone, or both rollout versions split by ticker
    hash (two parts of the same horizon over disjoint rows)."""
    if plan is None:
        part, _ = _horizon_part(inp, h, model, rows, result)
        return [part], []
    canary = in_canary(inp.tickers[rows].tolist(), plan.other_share)
    part, shadow = _horizon_part(inp, h, model, rows, result, ~canary)
    other, other_shadow = _horizon_part(inp, h, plan.other, rows, result, canary)
    result.rollouts[plan.kind] = plan.describe() | {"other_served": len(other.rows)}
    parts = [p for p in (part, other) if len(p.rows)]
    return parts, [shadow, other_shadow]


def _infer_horizons(
    inp: CycleInput,
    rows: np.ndarray,
    result: CycleResult,
    plans: dict[str, RolloutPlan],
    shadows: list[ShadowPart],
) -> list[HorizonPart]:
    """The longer horizons (issue 19) for the symbols the one-day models served (``rows`` of
    the cycle input, in batch order), over the same feature matrix. A horizon whose model is
    not registered is left out silently (the cycle serves the one-day forecast only); one that
    cannot load or predict is left out with an error. A horizon kind with a rollout in
    progress runs both versions (unserved forecasts appended to ``shadows``)."""
    parts: list[HorizonPart] = []
    for h, kind in KIND_OF_HORIZON.items():
        if not rows.size:
            break
        try:
            model = get_model(kind)
            found, extra = _horizon_kind(inp, h, model, rows, result, _plan_for(plans, kind, model))
        except NoActiveModel:
            continue
        except ModelLoadError as exc:
            result.errors.append(f"{kind} model: {exc}; served without the {h}-day forecast")
            continue
        result.model_versions[kind] = model.version
        result.batch_sizes[kind] = model.batch.chosen
        parts.extend(found)
        shadows.extend(extra)
    return parts


def _batch(
    inp: CycleInput,
    routing: Routing,
    parts: list[dict[str, Any]],
    predicted_at: dt.datetime,
    snapshots: bool,
) -> PredictionBatch:
    rows = np.concatenate([p["rows"] for p in parts]) if parts else np.empty(0, np.intp)
    quantiles = np.concatenate([p["quantiles"] for p in parts]) if parts else np.empty((0, 3))

    def per_model(attr: str) -> np.ndarray:
        return (
            np.concatenate(
                [np.full(len(p["rows"]), getattr(p["model"], attr), dtype=object) for p in parts]
            )
            if parts
            else np.empty(0, dtype=object)
        )

    tickers = inp.tickers[rows]
    # Each row's stored features, whatever model served it; the derived per-day ranks are left
    # out: they follow from the same cycle's snapshots (``predictions.snapshots.day_ranks``).
    snapshot = None
    if parts and snapshots:
        snapshot = snapshot_json(inp.feature_names, inp.X[rows])
    contexts = [
        json.dumps(routing.events[t]) if t in routing.events else None for t in tickers.tolist()
    ]
    return PredictionBatch(
        tickers=tickers,
        current_price=np.concatenate([p["close"] for p in parts]) if parts else np.empty(0),
        predicted_return=np.concatenate([p["point"] for p in parts]) if parts else np.empty(0),
        p10=quantiles[:, 0],
        p50=quantiles[:, 1],
        p90=quantiles[:, 2],
        sigma=sigma_from_quantiles(quantiles),
        model_type=per_model("model_type"),
        model_version=per_model("version"),
        uncertainty_method=(
            np.concatenate([np.full(len(p["rows"]), p["method"], dtype=object) for p in parts])
            if parts
            else np.empty(0, dtype=object)
        ),
        data_timestamp=day_timestamp(inp.data_date),
        target_date=routing.target_date,
        predicted_at=predicted_at,
        features_snapshot=snapshot,
        earnings_context=contexts,
        ood_score=np.concatenate([p["ood_score"] for p in parts]) if parts else None,
        ood_flagged=np.concatenate([p["ood_flagged"] for p in parts]) if parts else None,
    )


_fast_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-fast-layer")


def _fast_layer(client: redis.Redis, batch: PredictionBatch, publish: bool) -> dict[str, Any]:
    """Redis write then publish (no database access: safe in a helper thread)."""
    out: dict[str, Any] = {"errors": [], "ms": {}, "redis_written": 0, "published": 0}
    started = time.perf_counter()
    try:
        out["redis_written"] = writer.write_redis(client, batch) if len(batch) else 0
    except redis.RedisError as exc:
        out["errors"].append(f"redis write: {exc}")
        out["redis_ok"] = False
        return out
    finally:
        out["ms"]["write_redis"] = round((time.perf_counter() - started) * 1000, 2)
    out["redis_ok"] = True
    if publish:
        started = time.perf_counter()
        try:
            out["published"] = publisher.publish(
                batch.tickers.tolist(), batch.payload, batch.update_frame
            )
        except (redis.RedisError, OSError) as exc:
            out["errors"].append(f"publish: {exc}")
        out["ms"]["publish"] = round((time.perf_counter() - started) * 1000, 2)
    return out


def _merge_fast(result: CycleResult, fast: dict[str, Any]) -> bool:
    result.errors.extend(fast["errors"])
    result.stages_ms.update(fast["ms"])
    result.redis_written = fast["redis_written"]
    result.published = fast["published"]
    return bool(fast["redis_ok"])


def _observe(result: CycleResult) -> None:
    """Export the cycle's stage timings and counts (docs/metrics.md)."""
    ms = result.stages_ms
    for sink, stage in (("postgres", "write_postgres"), ("redis", "write_redis")):
        if stage in ms:
            metrics.DUAL_WRITE_SECONDS.labels(sink=sink).observe(ms[stage] / 1000)
    if "publish" in ms:
        metrics.PUBLISH_SECONDS.observe(ms["publish"] / 1000)
    metrics.PUBLISH_MESSAGES.inc(result.published)
    metrics.PIPELINE_CYCLE_SECONDS.observe(result.total_ms / 1000)
    if result.n_predicted:
        metrics.PREDICTIONS_LAST_WRITE.set(time.time())
    logger.info(
        "prediction cycle %s written and published",
        result.data_date,
        extra={
            "n_predicted": result.n_predicted,
            "records_inserted": result.records_inserted,
            "redis_written": result.redis_written,
            "published": result.published,
            "model_versions": result.model_versions,
            "stages_ms": result.stages_ms,
        },
    )


def _merge_shadow(result: CycleResult, pending: Any) -> None:
    """The shadow write's outcome (``shadow.submit``), joined inside the dual write."""
    if pending is None:
        return
    inserted, ms, error = pending.result()
    result.shadow_records_inserted = inserted
    result.stages_ms["write_shadow"] = ms
    if error:
        result.errors.append(error)


def run_cycle(
    inp: CycleInput,
    *,
    redis_client: redis.Redis | None = None,
    publish: bool = True,
    realise: bool = True,
    snapshots: bool = True,
    record_status: bool = True,
) -> tuple[CycleResult, PredictionBatch | None]:
    result = CycleResult(data_date=inp.data_date, n_symbols=len(inp.tickers))
    result.started_at = started_at = timezone.now()
    stage = _Stages(result)
    client = redis_client or status.redis_client()
    # Accuracy is not on the freshness path: it runs beside the models and the write
    # (predictions/pipeline/realise.py) and is joined before the interval state moves.
    realisation = Realisation.start(inp.data_date) if realise else None
    try:
        batch, redis_ok = _predict_and_write(
            inp, result, stage, client, started_at, snapshots=snapshots, publish=publish
        )
    except BaseException:
        if realisation is not None:
            realisation.abandon()
        raise
    if realisation is not None:
        with stage("realise"):  # what the step added to the cycle's wall time
            result.realised = realisation.finish()
            # Only now may this day's outcomes move the intervals (of the NEXT cycle).
            update_after_realise(inp.data_date)
        if realisation.background_ms is not None:
            result.stages_ms["realise_background"] = round(realisation.background_ms, 2)
    result.finished_at = timezone.now()
    for error in result.errors:
        logger.error("prediction cycle %s: %s", inp.data_date, error)
    if record_status:
        status.record(result.summary(), client if redis_ok else None)
    _observe(result)
    return result, batch


def _predict_and_write(
    inp: CycleInput,
    result: CycleResult,
    stage: _Stages,
    client: redis.Redis,
    started_at: dt.datetime,
    *,
    snapshots: bool,
    publish: bool,
) -> tuple[PredictionBatch, bool]:
    """Route, inference, the dual write; returns the batch and whether Redis took it."""
    with stage("route"):
        routing = route(inp.tickers, inp.data_date)
    result.target_date = routing.target_date
    result.n_earnings = int(routing.is_earnings.sum())
    with stage("inference"):
        plans = plans_for_cycle(result.errors)
        parts, unserved, shadows = _infer(inp, routing, result, plans)
        batch = _batch(inp, routing, parts, started_at, snapshots)
        rows = np.concatenate([p["rows"] for p in parts]) if parts else np.empty(0, np.intp)
        batch.horizons = _infer_horizons(inp, rows, result, plans, shadows)
    result.n_predicted = len(batch)
    # The fast layer (Redis + publish) runs in a helper thread WHILE PostgreSQL executes the
    # write: the statement's time is spent in the server process, so the two overlap.
    # write_postgres/write_redis/publish are each timed; "dual_write" is their wall time.
    started = time.perf_counter()
    # Unserved forecasts of rollout versions: their own table, on a second connection, never
    # Redis, ``Prediction``, the Channels groups or ``PredictionRecord``.
    pending = submit_shadow(shadows, batch.data_timestamp, started_at)
    # The helper thread runs in a copy of this context: its logs keep the correlation id.
    fast = _fast_pool.submit(contextvars.copy_context().run, _fast_layer, client, batch, publish)
    try:
        with stage("write_postgres"):
            written = writer.write_postgres(batch) if len(batch) else None
    finally:
        redis_ok = _merge_fast(result, fast.result())
        _merge_shadow(result, pending)
    result.stages_ms["dual_write"] = round((time.perf_counter() - started) * 1000, 2)
    result.records_inserted = written.records_inserted if written else 0
    result.horizon_records_inserted = written.horizon_records_inserted if written else 0
    failpoints.pause("after_write_postgres")
    if redis_ok and unserved.any():
        try:  # keep serving the last good predictions of the symbols this cycle missed
            writer.repopulate_redis(client, inp.tickers[unserved].tolist())
        except redis.RedisError as exc:
            result.errors.append(f"redis repopulate: {exc}")
    return batch, redis_ok
