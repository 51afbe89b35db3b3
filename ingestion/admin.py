from django.contrib import admin

from ingestion.models import EarningsEvent, Fundamentals, PriceBar, Symbol


@admin.register(Symbol)
class SymbolAdmin(admin.ModelAdmin):
    list_display = ("ticker", "name", "exchange", "sector", "asset_type", "active")
    list_filter = ("asset_type", "active", "exchange", "sector")
    search_fields = ("ticker", "name", "cik")


@admin.register(PriceBar)
class PriceBarAdmin(admin.ModelAdmin):
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
class EarningsEventAdmin(admin.ModelAdmin):
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
class FundamentalsAdmin(admin.ModelAdmin):
    list_display = ("symbol", "period_end", "period_type", "revenue", "net_income", "available_on")
    list_filter = ("period_type", "source")
    search_fields = ("symbol__ticker",)
    raw_id_fields = ("symbol",)
