"""The rollout state machine (issue 22) and its recorded decisions.

    start: shadow ──(live gate)──► canary ──(live gate)──► full ──(live gate)──► done
                 └──────────── rolled_back ◄───────────────┘ (any stage: live MAE too high)

- shadow: the active (previous) version serves every symbol; the candidate predicts every
  symbol in the same pass, stored in ``ShadowRecord`` only.
- canary: the candidate serves ``share`` of the symbols (``split.in_canary``), the previous
  version the others; each one's forecast of the symbols it does not serve is shadowed.
- full: the candidate is the registry's active version and serves every symbol; the previous
  version is watched in shadow, so a regression still rolls back to it.
- The live gate (``check``, beat task ``predictions.tasks.rollout.check_rollouts``): with at
  least ``MODEL_ROLLOUT_MIN_N`` paired outcomes since the stage began, a candidate whose live
  MAE exceeds the previous version's on the same pairs by more than
  ``MODEL_PROMOTION_MAX_MAE_INCREASE`` is rolled back; once the stage has its configured number
  of realised trading days and passes, it moves on.
Every change writes a ``ModelDecision`` (automatic or by an operator, with the figures)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from predictions.ml import registry
from predictions.models import (
    ModelDecision,
    ModelRollout,
    ModelStatus,
    ModelVersion,
    PipelineRun,
    RolloutStage,
)
from predictions.rollout.compare import Comparison, compare

log = logging.getLogger(__name__)

NEXT_STAGE = {
    RolloutStage.SHADOW: RolloutStage.CANARY,
    RolloutStage.CANARY: RolloutStage.FULL,
    RolloutStage.FULL: RolloutStage.DONE,
}


class RolloutError(Exception):
    pass


def in_progress(kind: str | None = None) -> list[ModelRollout]:
    qs = ModelRollout.objects.filter(stage__in=list(NEXT_STAGE)).select_related(
        "candidate", "previous"
    )
    return list(qs.filter(kind=kind) if kind else qs)


def current(kind: str) -> ModelRollout | None:
    found = in_progress(kind)
    return found[0] if found else None


def stage_days(stage: str) -> int:
    return int(
        {
            RolloutStage.SHADOW: settings.MODEL_SHADOW_DAYS,
            RolloutStage.CANARY: settings.MODEL_CANARY_DAYS,
            RolloutStage.FULL: settings.MODEL_FULL_WATCH_DAYS,
        }.get(RolloutStage(stage), 0)
    )


def _latest_data_day() -> Any:
    return PipelineRun.objects.order_by("-started_at").values_list("data_date", flat=True).first()


def _record(
    rollout: ModelRollout,
    to_stage: str,
    reason: str,
    figures: dict[str, Any],
    actor: str,
    from_stage: str | None = None,
) -> ModelDecision:
    return ModelDecision.objects.create(
        kind=rollout.kind,
        version=rollout.candidate.version,
        previous_version=rollout.previous.version,
        rollout=rollout,
        from_stage=rollout.stage if from_stage is None else from_stage,
        to_stage=to_stage,
        reason=reason,
        figures=figures,
        automatic=not actor,
        actor=actor,
        at=timezone.now(),
    )


def start(kind: str, version: str, *, actor: str = "", reason: str = "") -> ModelRollout:
    """Put candidate ``version`` in shadow against the kind's active version."""
    with transaction.atomic():
        candidate = ModelVersion.objects.select_for_update().filter(kind=kind, version=version)
        found = candidate.first()
        if found is None:
            raise RolloutError(f"No version {version!r} of kind {kind!r}")
        active = registry.active_version(kind)
        if active is None or active.pk == found.pk:
            raise RolloutError(f"{kind} {version}: needs another active version to run against")
        if current(kind) is not None:
            raise RolloutError(f"{kind}: a rollout is already in progress")
        now = timezone.now()
        rollout = ModelRollout.objects.create(
            kind=kind, candidate=found, previous=active, stage=RolloutStage.SHADOW, share=0.0,
            started_at=now, stage_started_at=now, stage_since=_latest_data_day(),
        )  # fmt: skip
        why = reason or "started in shadow"
        _record(rollout, RolloutStage.SHADOW, why, {}, actor, from_stage="")
    log.info("rollout %s %s: shadow against %s", kind, version, active.version)
    return rollout


def _locked(rollout: ModelRollout) -> ModelRollout:
    fresh = (
        ModelRollout.objects.select_for_update()
        .select_related("candidate", "previous")
        .get(pk=rollout.pk)
    )
    if not fresh.in_progress:
        raise RolloutError(f"{fresh.kind} rollout of {fresh.candidate.version} is {fresh.stage}")
    return fresh


def _enter(rollout: ModelRollout, stage: str, share: float) -> None:
    now = timezone.now()
    rollout.stage, rollout.share = stage, share
    rollout.stage_started_at, rollout.stage_since = now, _latest_data_day()
    if stage in (RolloutStage.DONE, RolloutStage.ROLLED_BACK):
        rollout.ended_at = now
    rollout.save()


def advance(
    rollout: ModelRollout,
    *,
    reason: str,
    figures: dict[str, Any] | None = None,
    actor: str = "",
    share: float | None = None,
) -> ModelRollout:
    """Move to the next stage (canary at ``share`` or MODEL_CANARY_SHARE; full activates the
    candidate in the registry; done ends the watch)."""
    with transaction.atomic():
        rollout = _locked(rollout)
        to = NEXT_STAGE[RolloutStage(rollout.stage)]
        _record(rollout, to, reason, figures or {}, actor)
        if to == RolloutStage.CANARY:
            _enter(rollout, to, settings.MODEL_CANARY_SHARE if share is None else share)
        elif to == RolloutStage.FULL:
            registry.activate_version(
                rollout.kind, rollout.candidate.version, reason=f"rollout: {reason}"
            )
            _enter(rollout, to, 1.0)
        else:
            _enter(rollout, to, 1.0)
    log.info("rollout %s %s: -> %s (%s)", rollout.kind, rollout.candidate.version, to, reason)
    return rollout


def roll_back(
    rollout: ModelRollout, *, reason: str, figures: dict[str, Any] | None = None, actor: str = ""
) -> ModelRollout:
    """End the rollout: the previous version serves every symbol again (re-activated if the
    candidate had been promoted), the candidate is retired."""
    with transaction.atomic():
        rollout = _locked(rollout)
        _record(rollout, RolloutStage.ROLLED_BACK, reason, figures or {}, actor)
        if rollout.stage == RolloutStage.FULL:
            registry.activate_version(
                rollout.kind, rollout.previous.version, reason=f"rollback: {reason}"
            )
        candidate = ModelVersion.objects.select_for_update().get(pk=rollout.candidate.pk)
        candidate.status = ModelStatus.RETIRED
        stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%SZ")
        candidate.notes = f"{candidate.notes}\n{stamp} rolled back: {reason}".strip()
        candidate.save(update_fields=["status", "notes"])
        _enter(rollout, RolloutStage.ROLLED_BACK, 0.0)
    log.warning("rollout %s %s rolled back: %s", rollout.kind, rollout.candidate.version, reason)
    return rollout


def figures(rollout: ModelRollout) -> Comparison:
    """The candidate vs the previous version on the pairs of the current stage."""
    return compare(
        rollout.kind,
        rollout.candidate.version,
        rollout.previous.version,
        since_at=rollout.stage_started_at,
        since_day=rollout.stage_since,
    )


def verdict(fig: Comparison, stage: str) -> tuple[str, str]:
    """("wait" | "rollback" | "advance", why) for a stage's live figures."""
    limit, min_n, days = (
        settings.MODEL_PROMOTION_MAX_MAE_INCREASE,
        settings.MODEL_ROLLOUT_MIN_N,
        stage_days(stage),
    )
    pairs = f"{fig.n} pairs over {fig.days} realised days"
    if fig.n < min_n or fig.mae is None or fig.mae_other is None:
        return "wait", f"{pairs}: fewer than {min_n} paired outcomes"
    bound = fig.mae_other * (1.0 + limit)
    if fig.mae > bound:
        return "rollback", (
            f"live MAE {fig.mae:.6f} > {bound:.6f} (previous {fig.mae_other:.6f} x "
            f"{1 + limit:g}) on {pairs}"
        )
    if fig.days < days:
        return "wait", f"{pairs}: the stage needs {days} days"
    return "advance", f"live MAE {fig.mae:.6f} <= {bound:.6f} on {pairs}"


def _superseded(rollout: ModelRollout) -> str | None:
    """Why the rollout no longer describes what is served (another version was activated by
    hand meanwhile), or None."""
    expected = rollout.candidate if rollout.stage == RolloutStage.FULL else rollout.previous
    active = registry.active_version(rollout.kind)
    if active is not None and active.pk == expected.pk:
        return None
    now = active.version if active else "none"
    return (
        f"the active version changed outside the rollout (now {now}, expected {expected.version})"
    )


def _end_superseded(rollout: ModelRollout, why: str) -> dict[str, Any]:
    with transaction.atomic():
        rollout = _locked(rollout)
        _record(rollout, RolloutStage.ROLLED_BACK, why, {}, "")
        _enter(rollout, RolloutStage.ROLLED_BACK, 0.0)
    return {"kind": rollout.kind, "version": rollout.candidate.version, "action": "ended",
            "reason": why, "stage": rollout.stage, "figures": {}}  # fmt: skip


def check(rollout: ModelRollout) -> dict[str, Any]:
    """Apply the live gate to one rollout (what the beat task does for each)."""
    why_not = _superseded(rollout)
    if why_not is not None:
        return _end_superseded(rollout, why_not)
    fig = figures(rollout)
    action, why = verdict(fig, rollout.stage)
    data = {**fig.as_dict(), "checked_at": timezone.now().isoformat(), "verdict": action}
    ModelRollout.objects.filter(pk=rollout.pk).update(figures=data)
    if action == "rollback":
        rollout = roll_back(rollout, reason=why, figures=data)
    elif action == "advance":
        rollout = advance(rollout, reason=why, figures=data)
    return {"kind": rollout.kind, "version": rollout.candidate.version, "action": action,
            "reason": why, "stage": rollout.stage, "figures": data}  # fmt: skip


def realise_pending() -> int:
    """Outcomes of the shadow forecasts whose target day has its bars (the cycle realises the
    served records only; this runs before every comparison that decides)."""
    from predictions.accuracy import realise_shadow
    from predictions.models import ShadowRecord

    pending = ShadowRecord.objects.filter(realised_at__isnull=True, target_date__isnull=False)
    last = pending.order_by("-target_date").values_list("target_date", flat=True).first()
    return realise_shadow(last) if last else 0


def check_all() -> list[dict[str, Any]]:
    realise_pending()
    out = []
    for rollout in in_progress():
        try:
            out.append(check(rollout))
        except RolloutError as exc:  # changed by an operator meanwhile
            out.append({"kind": rollout.kind, "action": "skipped", "reason": str(exc)})
    return out
