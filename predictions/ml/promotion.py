"""Weekly retrain: train a candidate on the latest data, score candidate and active model on the
same most recent held-out window (the candidate's test window: after its validation year, never
seen by either model's training), promote only if the candidate's MAE is not worse than the active
model's by more than ``MODEL_PROMOTION_MAX_MAE_INCREASE`` (20%), and record the decision on the
candidate (``metadata["promotion"]`` and ``notes``).

The offline check is the FIRST gate only (issue 22): with ``MODEL_LIVE_ROLLOUT`` (the default)
a candidate that passes it starts a live rollout in shadow (``predictions.rollout.stages``), and
the beat task moves it to canary and full on live figures or rolls it back. Without an active
version, or with ``MODEL_LIVE_ROLLOUT`` off, it is activated at once as before."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from predictions.ml import registry
from predictions.models import ModelVersion

log = logging.getLogger(__name__)


def decide(
    candidate_mae: float | None, active_mae: float | None, max_increase: float
) -> tuple[bool, str]:
    if active_mae is None:
        return True, "no active version to compare with"
    if candidate_mae is None:
        return False, "candidate has no MAE on the held-out window"
    limit = active_mae * (1.0 + max_increase)
    if candidate_mae <= limit:
        return (
            True,
            f"candidate MAE {candidate_mae:.6f} <= {limit:.6f} (active x {1 + max_increase:g})",
        )
    return False, f"candidate MAE {candidate_mae:.6f} > {limit:.6f} (active x {1 + max_increase:g})"


def record_decision(
    candidate: ModelVersion,
    active: ModelVersion | None,
    candidate_metrics: dict[str, Any],
    active_metrics: dict[str, Any] | None,
    window: dict[str, str],
    max_increase: float | None = None,
) -> dict[str, Any]:
    """Apply the rule, activate the candidate if it passes, store the decision on it."""
    max_increase = (
        settings.MODEL_PROMOTION_MAX_MAE_INCREASE if max_increase is None else max_increase
    )
    promote, reason = decide(
        candidate_metrics.get("mae"), (active_metrics or {}).get("mae"), max_increase
    )
    live = bool(promote and active is not None and settings.MODEL_LIVE_ROLLOUT)
    decision = {
        "decided_at": datetime.now(UTC).isoformat(),
        # Activated now; a candidate passing into a live rollout is "offline_passed" only.
        "promoted": promote and not live,
        "offline_passed": promote,
        "rollout": "shadow" if live else None,
        "reason": reason,
        "rule": f"promote iff mae_candidate <= mae_active * (1 + {max_increase:g})",
        "window": window,
        "candidate": {"version": candidate.version, **_brief(candidate_metrics)},
        "active": ({"version": active.version, **_brief(active_metrics or {})} if active else None),
    }
    candidate.metadata = {**(candidate.metadata or {}), "promotion": decision}
    verdict = "promoted" if promote else "not promoted"
    if live:
        verdict = "passed the offline gate, rollout started in shadow"
    candidate.notes = f"{candidate.notes}\nweekly retrain: {verdict}: {reason}".strip()
    candidate.save(update_fields=["metadata", "notes"])
    if live:
        decision["rollout"] = _start_rollout(candidate, reason)
    elif promote:
        registry.activate_version(candidate.kind, candidate.version, reason=f"promoted: {reason}")
    log.info("retrain %s %s: %s (%s)", candidate.kind, candidate.version, verdict, reason)
    return decision


def _start_rollout(candidate: ModelVersion, reason: str) -> str:
    """Shadow stage for a candidate past the offline gate; "busy: ..." (the candidate stays a
    candidate) when the kind already has a rollout in progress."""
    from predictions.rollout.stages import RolloutError, start

    try:
        start(candidate.kind, candidate.version, reason=f"weekly retrain, offline gate: {reason}")
    except RolloutError as exc:
        log.warning("retrain %s %s: no rollout (%s)", candidate.kind, candidate.version, exc)
        return f"busy: {exc}"
    return "shadow"


def _brief(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "mae", "mae_naive", "mae_ratio", "rank_ic", "coverage_p10_p90")
    return {k: m.get(k) for k in keys}


def retrain(
    kind: str,
    *,
    prices: Path | str | None = None,
    until: date | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from predictions.ml.evaluate import evaluate_version
    from predictions.ml.train import TrainOptions, load, resolve_source, train

    prices = resolve_source(prices)
    loaded = load(prices, until)
    opts = replace(TrainOptions(kind=kind, prices=prices, until=until), **(overrides or {}))
    active = registry.active_version(kind)
    result = train(opts, activate=False, loaded=loaded)
    candidate = ModelVersion.objects.get(kind=kind, version=result["version"])
    w = result["training_window"]
    start, end = date.fromisoformat(w["test_start"]), date.fromisoformat(w["test_end"])
    window = {"from": w["test_start"], "to": w["test_end"]}
    cand = evaluate_version(candidate, prices, start, end, loaded=loaded)
    act = evaluate_version(active, prices, start, end, loaded=loaded) if active else None
    decision = record_decision(candidate, active, cand, act, window)
    return {"kind": kind, **decision}
