from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from ingestion.models import (
    EarningsEvent,
    Fundamentals,
    IngestionRun,
    PriceBar,
    QuarantinedBar,
    Symbol,
)
from ingestion.quarantine import ReleaseResult, release


@admin.register(Symbol)
class SymbolAdmin(admin.ModelAdmin[Symbol]):
    list_display = ("ticker", "name", "exchange", "sector", "asset_type", "active")
    list_filter = ("asset_type", "active", "exchange", "sector")
    search_fields = ("ticker", "name", "cik")


@admin.register(PriceBar)
class PriceBarAdmin(admin.ModelAdmin[PriceBar]):
    list_display = (
        "symbol",
        "timestamp",
        "interval",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "source",
    )
    list_filter = ("interval", "source")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)
    date_hierarchy = "timestamp"
    show_full_result_count = False  # millions of rows: avoid a COUNT(*) per page


@admin.register(EarningsEvent)
class EarningsEventAdmin(admin.ModelAdmin[EarningsEvent]):
    list_display = (
        "symbol",
        "date",
        "reaction_date",
        "timing",
        "eps_estimate",
        "eps_actual",
        "source",
    )
    list_filter = ("timing", "source")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)
    date_hierarchy = "date"


@admin.register(Fundamentals)
class FundamentalsAdmin(admin.ModelAdmin[Fundamentals]):
    list_display = ("symbol", "period_end", "period_type", "revenue", "net_income", "available_on")
    list_filter = ("period_type", "source")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)


class QuarantineActionForm(ActionForm):
    note = forms.CharField(
        required=False,
        label="Reason (required to force-store)",
        widget=forms.TextInput(attrs={"size": 50}),
    )


@admin.register(QuarantinedBar)
class QuarantinedBarAdmin(admin.ModelAdmin[QuarantinedBar]):
    list_display = (
        "ticker",
        "timestamp",
        "reason",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "status",
        "source",
        "created_at",
    )
    list_filter = ("status", "reason", "source", "interval")
    search_fields = ("ticker", "detail")
    readonly_fields = [f.name for f in QuarantinedBar._meta.fields]
    date_hierarchy = "created_at"
    action_form = QuarantineActionForm
    actions = ["release_selected", "force_store_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from validation only

    @admin.action(description="Release: re-validate and store the bars that now pass")
    def release_selected(self, request: HttpRequest, queryset: QuerySet[QuarantinedBar]) -> None:
        result = release(list(queryset.values_list("pk", flat=True)))
        self._report(request, result)

    @admin.action(description="Force-store (needs a reason in the box above)")
    def force_store_selected(
        self, request: HttpRequest, queryset: QuerySet[QuarantinedBar]
    ) -> None:
        note = request.POST.get("note", "").strip()
        if not note:
            self.message_user(
                request, "Force-storing needs a reason: type it in the box.", messages.ERROR
            )
            return
        result = release(list(queryset.values_list("pk", flat=True)), force=True, note=note)
        self._report(request, result)

    def _report(self, request: HttpRequest, result: ReleaseResult) -> None:
        self.message_user(
            request,
            f"{len(result.released)} released, {len(result.forced)} force-stored, "
            f"{len(result.still_rejected)} still rejected"
            + (
                f" ({', '.join(sorted(set(result.still_rejected.values())))})"
                if result.still_rejected
                else ""
            ),
            messages.SUCCESS if not result.still_rejected else messages.WARNING,
        )


@admin.register(IngestionRun)
class IngestionRunAdmin(admin.ModelAdmin[IngestionRun]):
    list_display = (
        "id",
        "started_at",
        "mode",
        "provider",
        "status",
        "received",
        "accepted",
        "inserted",
        "updated",
        "unchanged",
        "quarantined",
        "duplicates",
    )
    list_filter = ("mode", "provider", "status")
    readonly_fields = [f.name for f in IngestionRun._meta.fields]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
