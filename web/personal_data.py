"""The website's personal data, declared to ``accounts.privacy``: the user's watchlist."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.privacy import Holder, register
from web.models import WatchlistItem


class WatchlistEntrySerializer(serializers.Serializer[WatchlistItem]):
    symbol = serializers.CharField(source="symbol.ticker")
    added_at = serializers.DateTimeField()


def _items(user: User) -> Any:
    return WatchlistItem.objects.filter(user=user).select_related("symbol")


def _erase(user: User) -> int:
    return WatchlistItem.objects.filter(user=user).delete()[0]


def register_all() -> None:
    register(
        Holder(
            "watchlist",
            "The symbols on your watchlist and when you added them",
            "To show your dashboard",
            WatchlistEntrySerializer,
            _items,
            _erase,
        )
    )
