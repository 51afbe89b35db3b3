"""Admin of model rollouts (issue 22): the live comparison of the candidate and the previous
version on the same symbol-days, force promote / roll back, the recorded decisions and the
shadow forecasts (read-only). Imported by ``predictions.admin``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from predictions.models import ModelDecision, ModelRollout, ShadowRecord

FIGURES = (
    ("n", "pairs"),
    ("days", "days"),
    ("mae", "MAE candidate"),
    ("mae_other", "MAE previous (same days)"),
    ("rank_ic", "rank IC candidate"),
    ("rank_ic_other", "rank IC previous"),
    ("coverage", "coverage candidate"),
    ("coverage_other", "coverage previous"),
)


def _live(obj: ModelRollout) -> dict[str, Any]:
    from predictions.rollout.stages import figures

    if not obj.in_progress:
        return dict(obj.figures or {})
    return figures(obj).as_dict()


def force(request: HttpRequest, rollouts: list[ModelRollout], action: str) -> list[str]:
    """Promote (one stage on) or roll back each rollout in progress, as ``request.user``."""
    from predictions.rollout import stages

    done = []
    for rollout in rollouts:
        if not rollout.in_progress:
            continue
        fig = stages.figures(rollout).as_dict()
        actor = f"admin: {request.user}"
        if action == "rollback":
            stages.roll_back(rollout, reason="rolled back in the admin", figures=fig, actor=actor)
        else:
            stages.advance(rollout, reason="promoted in the admin", figures=fig, actor=actor)
        done.append(f"{rollout.kind} {rollout.candidate.version}")
    return done


@admin.register(ModelRollout)
class ModelRolloutAdmin(admin.ModelAdmin[ModelRollout]):
    list_display = (
        "kind", "candidate", "previous", "stage", "share", "live_mae", "live_mae_previous",
        "live_n", "stage_started_at",
    )  # fmt: skip
    list_filter = ("kind", "stage")
    readonly_fields = ("comparison", *[f.name for f in ModelRollout._meta.fields])
    actions = ("promote_selected", "roll_back_selected", "check_now")

    def _fig(self, obj: ModelRollout) -> dict[str, Any]:
        return dict(obj.figures or {})

    @admin.display(description="live MAE (last check)")
    def live_mae(self, obj: ModelRollout) -> Any:
        return self._fig(obj).get("mae")

    @admin.display(description="previous, same days")
    def live_mae_previous(self, obj: ModelRollout) -> Any:
        return self._fig(obj).get("mae_other")

    @admin.display(description="pairs")
    def live_n(self, obj: ModelRollout) -> Any:
        return self._fig(obj).get("n")

    @admin.display(description="candidate vs previous on the same live days (now)")
    def comparison(self, obj: ModelRollout) -> str:
        fig = _live(obj)
        return "; ".join(f"{label}: {fig.get(key)}" for key, label in FIGURES)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started from the model versions' action or `manage.py models shadow`

    @admin.action(description="Force promote one stage (shadow→canary→full→done)")
    def promote_selected(self, request: HttpRequest, qs: QuerySet[ModelRollout]) -> None:
        done = force(request, list(qs.select_related("candidate", "previous")), "promote")
        self.message_user(request, f"promoted: {', '.join(done) or 'none'}", messages.SUCCESS)

    @admin.action(description="Roll back")
    def roll_back_selected(self, request: HttpRequest, qs: QuerySet[ModelRollout]) -> None:
        done = force(request, list(qs.select_related("candidate", "previous")), "rollback")
        self.message_user(request, f"rolled back: {', '.join(done) or 'none'}", messages.SUCCESS)

    @admin.action(description="Run the live gate now")
    def check_now(self, request: HttpRequest, qs: QuerySet[ModelRollout]) -> None:
        from predictions.rollout.stages import check_all

        out = check_all()
        text = "; ".join(f"{o['kind']}: {o['action']} ({o['reason']})" for o in out)
        self.message_user(request, text or "no rollout in progress", messages.INFO)


@admin.register(ModelDecision)
class ModelDecisionAdmin(admin.ModelAdmin[ModelDecision]):
    list_display = ("at", "kind", "version", "from_stage", "to_stage", "automatic", "actor",
                    "reason")  # fmt: skip
    list_filter = ("kind", "to_stage", "automatic")
    readonly_fields = [f.name for f in ModelDecision._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelDecision | None = None) -> bool:
        return False


@admin.register(ShadowRecord)
class ShadowRecordAdmin(admin.ModelAdmin[ShadowRecord]):
    """Forecasts of rollout versions that were never served (read-only)."""

    list_display = ("symbol", "data_timestamp", "target_date", "model_type", "model_version",
                    "predicted_return_1d", "realised_return", "abs_error")  # fmt: skip
    list_filter = ("model_type", "model_version")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ShadowRecord | None = None) -> bool:
        return False
