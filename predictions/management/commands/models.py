"""``python manage.py models`` - the model registry and live rollouts (issue 22):

list [--kind K]                   every version
status [--json]                   per kind: active, shadow, canary (live figures), last decision
activate KIND VERSION             activate at once (no rollout)
shadow KIND VERSION               start a rollout: VERSION runs in shadow
canary KIND [--share S]           force the rollout of KIND to canary
promote KIND                      force the rollout of KIND one stage on (canary/full/done)
rollback KIND [--reason R]        roll the rollout of KIND back, or (none in progress)
                                  re-activate the previously active version
check                             run the live gate now (what the beat task does)
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from predictions.ml.data import ALL_KINDS


def _parsers(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list").add_argument("--kind", choices=ALL_KINDS, default=None)
    sub.add_parser("status").add_argument("--json", action="store_true", dest="as_json")
    act = sub.add_parser("activate")
    act.add_argument("kind", choices=ALL_KINDS)
    act.add_argument("version")
    shadow = sub.add_parser("shadow")
    shadow.add_argument("kind", choices=ALL_KINDS)
    shadow.add_argument("version")
    canary = sub.add_parser("canary")
    canary.add_argument("kind", choices=ALL_KINDS)
    canary.add_argument("--share", type=float, default=None)
    sub.add_parser("promote").add_argument("kind", choices=ALL_KINDS)
    back = sub.add_parser("rollback")
    back.add_argument("kind", choices=ALL_KINDS)
    back.add_argument("--reason", default="")
    sub.add_parser("check")


def _actor() -> str:
    try:
        return f"manage.py models ({getpass.getuser()})"
    except (KeyError, OSError):
        return "manage.py models"


class Command(BaseCommand):
    help = "Model versions and their live rollouts: list, status, shadow, promote, roll back."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _parsers(parser)

    def handle(self, *args: Any, **opts: Any) -> None:
        from predictions.ml import registry
        from predictions.rollout.stages import RolloutError

        try:
            out = self._run(opts)
        except (registry.RegistryError, RolloutError) as exc:
            raise CommandError(str(exc)) from exc
        if isinstance(out, str):
            self.stdout.write(out)
        else:
            self.stdout.write(json.dumps(out, indent=2, default=str))

    def _run(self, opts: dict[str, Any]) -> Any:
        from predictions.ml import registry
        from predictions.models import ModelVersion
        from predictions.rollout import report, stages

        action, kind = opts["action"], str(opts.get("kind") or "")
        if action == "list":
            qs = ModelVersion.objects.all()
            return [registry.describe(mv) for mv in (qs.filter(kind=kind) if kind else qs)]
        if action == "status":
            found = report.status()
            return found if opts["as_json"] else _status_text(found)
        if action == "activate":
            mv = registry.activate_version(
                kind, opts["version"], reason="activated by `manage.py models`"
            )
            return registry.describe(mv)
        if action == "shadow":
            return _rollout_json(stages.start(kind, opts["version"], actor=_actor()))
        if action == "check":
            return stages.check_all()
        return _force(kind, action, opts)


def _force(kind: str, action: str, opts: dict[str, Any]) -> Any:
    from predictions.ml import registry
    from predictions.models import RolloutStage
    from predictions.rollout import stages

    rollout = stages.current(kind)
    if rollout is None:
        if action == "rollback":
            return registry.describe(registry.rollback(kind))
        raise stages.RolloutError(f"{kind}: no rollout in progress")
    fig = stages.figures(rollout).as_dict()
    if action == "rollback":
        reason = opts["reason"] or "rolled back by an operator"
        return _rollout_json(stages.roll_back(rollout, reason=reason, figures=fig, actor=_actor()))
    if action == "canary" and rollout.stage != RolloutStage.SHADOW:
        raise stages.RolloutError(f"{kind}: the rollout is {rollout.stage}, not shadow")
    share = opts.get("share")
    moved = stages.advance(
        rollout, reason="forced by an operator", figures=fig, actor=_actor(), share=share
    )
    return _rollout_json(moved)


def _rollout_json(rollout: Any) -> dict[str, Any]:
    return {
        "kind": rollout.kind,
        "candidate": rollout.candidate.version,
        "previous": rollout.previous.version,
        "stage": rollout.stage,
        "share": rollout.share,
    }


def _status_text(found: dict[str, dict[str, Any]]) -> str:
    lines = []
    for kind, row in found.items():
        for role in ("active", "shadow", "canary"):
            entry = row.get(role)
            if entry:
                lines.append(
                    f"{kind:12} {role:7} {entry['version']:28} {entry['stage']:16} "
                    f"share {entry['share']:<6} n {entry['n']:<7} mae {entry['mae']} "
                    f"(active, same days: {entry['mae_active_same_days']})"
                )
        last = row.get("last_decision")
        if last:
            lines.append(
                f"{kind:12} last    {last['from_stage'] or '-'} -> {last['to_stage']}: "
                f"{last['reason']}"
            )
    return "\n".join(lines) or "no model versions"
