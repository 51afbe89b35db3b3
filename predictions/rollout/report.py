"""Where each model kind stands (``manage.py models status --json``, the admin, the accuracy
page): the active version, a shadow and a canary version if any, each with its live figures
on the same (symbol, day) pairs as the version it is compared with, and the last decision."""

from __future__ import annotations

from typing import Any

from predictions.ml import registry
from predictions.models import ModelDecision, ModelKind, ModelRollout, RolloutStage
from predictions.rollout.compare import Comparison
from predictions.rollout.stages import current, figures

KINDS = tuple(ModelKind.values)


def _entry(version: str, stage: str, share: float, fig: Comparison, *, mine: str) -> dict[str, Any]:
    """A version's live figures; ``mine`` says which side of ``fig`` is this version's."""
    cand = mine == "candidate"
    return {
        "version": version,
        "stage": stage,
        "share": round(share, 4),
        "days": fig.days,
        "mae": fig.mae if cand else fig.mae_other,
        "mae_active_same_days": fig.mae_other if cand else fig.mae,
        "n": fig.n,
        "rank_ic": fig.rank_ic if cand else fig.rank_ic_other,
        "rank_ic_active_same_days": fig.rank_ic_other if cand else fig.rank_ic,
        "coverage_p10_p90": fig.coverage if cand else fig.coverage_other,
        "coverage_active_same_days": fig.coverage_other if cand else fig.coverage,
    }


def decision_json(decision: ModelDecision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "at": decision.at.isoformat(),
        "version": decision.version,
        "previous_version": decision.previous_version,
        "from_stage": decision.from_stage,
        "to_stage": decision.to_stage,
        "reason": decision.reason,
        "automatic": decision.automatic,
        "actor": decision.actor,
        "figures": decision.figures,
    }


def _rollout_entries(rollout: ModelRollout) -> dict[str, Any]:
    fig = figures(rollout)
    cand, prev, stage = rollout.candidate.version, rollout.previous.version, rollout.stage
    if stage == RolloutStage.FULL:  # promoted: the previous version is watched in shadow
        return {
            "active": _entry(cand, "full", 1.0, fig, mine="candidate"),
            "shadow": _entry(prev, "shadow_previous", 0.0, fig, mine="other"),
            "canary": None,
        }
    candidate = _entry(cand, stage, rollout.share, fig, mine="candidate")
    active = _entry(prev, "active", 1.0 - rollout.share, fig, mine="other")
    active["mae_active_same_days"] = fig.mae_other
    return {
        "active": active,
        "shadow": candidate if stage == RolloutStage.SHADOW else None,
        "canary": candidate if stage == RolloutStage.CANARY else None,
    }


def _plain_active(kind: str, accuracy: dict[str, Any]) -> dict[str, Any] | None:
    active = registry.active_version(kind)
    if active is None:
        return None
    window = accuracy.get(kind, {}).get("30d", {})
    return {
        "version": active.version,
        "stage": "active",
        "share": 1.0,
        "days": None,
        "mae": window.get("mae"),
        "mae_active_same_days": None,
        "n": window.get("n", 0),
        "window": "30d",
    }


def kind_status(kind: str, accuracy: dict[str, Any]) -> dict[str, Any]:
    rollout = current(kind)
    if rollout is None:
        out: dict[str, Any] = {
            "active": _plain_active(kind, accuracy),
            "shadow": None,
            "canary": None,
            "rollout": None,
        }
    else:
        out = _rollout_entries(rollout) | {
            "rollout": {
                "id": rollout.pk,
                "stage": rollout.stage,
                "candidate": rollout.candidate.version,
                "previous": rollout.previous.version,
                "share": rollout.share,
                "started_at": rollout.started_at.isoformat(),
                "stage_started_at": rollout.stage_started_at.isoformat(),
                "last_check": rollout.figures or None,
            }
        }
    out["last_decision"] = decision_json(ModelDecision.objects.filter(kind=kind).first())
    return out


def status() -> dict[str, dict[str, Any]]:
    from predictions.accuracy import rolling_accuracy
    from predictions.rollout.stages import realise_pending

    realise_pending()  # the figures shown include every outcome already known
    accuracy = rolling_accuracy()
    return {kind: kind_status(kind, accuracy) for kind in KINDS}
