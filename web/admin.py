from django.contrib import admin

from web.models import WatchlistItem


@admin.register(WatchlistItem)
class WatchlistItemAdmin(admin.ModelAdmin[WatchlistItem]):
    list_display = ("user", "symbol", "added_at")
    list_select_related = ("user", "symbol")
    search_fields = ("user__username", "symbol__ticker")
    raw_id_fields = ("user", "symbol")
