"""The website's own data: each user's watchlist."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ingestion.models import Symbol


class WatchlistItem(models.Model):
    """One symbol on one user's watchlist. Rows are only ever read through ``request.user``, so
    one user can neither see nor change another's list."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist_items"
    )
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="watchlist_items")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "symbol"], name="watchlist_user_symbol_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.symbol_id}"
