from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from predictions.admin_rollout import force
from predictions.models import (
    ConsistencyRun,
    IntervalCalibration,
    ModelVersion,
    PipelineRun,
    Prediction,
    PredictionRecord,
)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin[Prediction]):
    list_display = (
        "symbol",
        "predicted_return_1d",
        "predicted_price",
        "p10",
        "p90",
        "model_type",
        "model_version",
        "predicted_at",
        "data_timestamp",
    )
    list_filter = ("model_type", "model_version")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)


@admin.register(PredictionRecord)
class PredictionRecordAdmin(admin.ModelAdmin[PredictionRecord]):
    list_display = (
        "symbol",
        "data_timestamp",
        "target_date",
        "model_type",
        "model_version",
        "predicted_return_1d",
        "realised_return",
        "abs_error",
        "inside_interval",
    )
    list_filter = ("model_type", "model_version", "inside_interval")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)
    show_full_result_count = False

    def has_change_permission(
        self, request: HttpRequest, obj: PredictionRecord | None = None
    ) -> bool:
        return False  # append-only audit history


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin[ModelVersion]):
    list_display = ("kind", "version", "status", "test_mae", "created_at", "activated_at")
    list_filter = ("kind", "status")
    readonly_fields = ("created_at", "activated_at")
    actions = ("activate_selected", "start_shadow", "promote_kind", "roll_back_kind")

    @admin.display(description="test MAE")
    def test_mae(self, obj: ModelVersion) -> float | None:
        mae: float | None = ((obj.metrics or {}).get("test") or {}).get("mae")
        return mae

    @admin.action(description="Activate the selected version (one per kind)")
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from predictions.ml import registry

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        mv = queryset.get()
        mv = registry.activate_version(
            mv.kind, mv.version, reason=f"activated in the admin by {request.user}"
        )
        self.message_user(request, f"{mv.kind} {mv.version} is now active.", messages.SUCCESS)

    @admin.action(description="Start a live rollout: run the selected version in shadow")
    def start_shadow(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from predictions.rollout.stages import RolloutError, start

        for mv in queryset:
            try:
                start(mv.kind, mv.version, actor=f"admin: {request.user}")
            except RolloutError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{mv.kind} {mv.version}: in shadow.", messages.SUCCESS)

    @admin.action(description="Force promote the rollout of the selected kind(s) one stage")
    def promote_kind(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from predictions.rollout.stages import in_progress

        kinds = set(queryset.values_list("kind", flat=True))
        done = force(request, [r for r in in_progress() if r.kind in kinds], "promote")
        self.message_user(request, f"promoted: {', '.join(done) or 'none'}", messages.SUCCESS)

    @admin.action(
        description="Roll back the selected kind(s): the rollout in progress, else to the "
        "previously active version"
    )
    def roll_back_kind(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from predictions.ml import registry
        from predictions.rollout.stages import current

        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            rollout = current(kind)
            if rollout is not None:
                force(request, [rollout], "rollback")
                self.message_user(request, f"{kind}: rollout rolled back.", messages.SUCCESS)
                continue
            try:
                mv = registry.rollback(kind)
            except registry.RegistryError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{kind}: rolled back to {mv.version}.", messages.SUCCESS)


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin[PipelineRun]):
    """Read-only record of each prediction cycle: what it served, stage times, errors."""

    list_display = (
        "data_date", "started_at", "ok", "n_symbols", "n_earnings", "n_predicted", "duration_ms",
    )  # fmt: skip
    list_filter = ("ok",)
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in PipelineRun._meta.fields]

    @admin.display(description="duration (ms)")
    def duration_ms(self, run: PipelineRun) -> int:
        return round((run.finished_at - run.started_at).total_seconds() * 1000)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PipelineRun | None = None) -> bool:
        return False


@admin.register(IntervalCalibration)
class IntervalCalibrationAdmin(admin.ModelAdmin[IntervalCalibration]):
    list_display = (
        "kind",
        "model_version",
        "scale",
        "alpha",
        "n_days",
        "last_target_date",
        "reset_at",
        "updated_at",
    )
    readonly_fields = ("updated_at",)


@admin.register(ConsistencyRun)
class ConsistencyRunAdmin(admin.ModelAdmin[ConsistencyRun]):
    """Read-only: runs are written by the hourly job."""

    list_display = (
        "started_at",
        "checked",
        "matched",
        "missing",
        "mismatched",
        "ahead",
        "repaired",
        "mismatch_ratio",
        "error",
    )
    readonly_fields = [f.name for f in ConsistencyRun._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: ConsistencyRun | None = None) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ConsistencyRun | None = None
    ) -> bool:
        return False
