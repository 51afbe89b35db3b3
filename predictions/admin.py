from django.contrib import admin

from predictions.models import ModelVersion, Prediction, PredictionRecord


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
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
class PredictionRecordAdmin(admin.ModelAdmin):
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

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only audit history


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "status", "created_at", "activated_at")
    list_filter = ("kind", "status")
    readonly_fields = ("created_at", "activated_at")
