"""Watchlist operations, always scoped to the acting user."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from accounts.models import User
from ingestion.models import Symbol
from web.models import WatchlistItem

MAX_ITEMS = 50  # a dashboard of more cards than this is no longer readable


class WatchlistFull(Exception):
    pass


def items_for(user: User) -> list[WatchlistItem]:
    return list(WatchlistItem.objects.filter(user=user).select_related("symbol"))


def add(user: User, symbol: Symbol) -> tuple[WatchlistItem, bool]:
    """Add a symbol (idempotent). Returns (item, created)."""
    existing = WatchlistItem.objects.filter(user=user, symbol=symbol).first()
    if existing is not None:
        return existing, False
    if WatchlistItem.objects.filter(user=user).count() >= MAX_ITEMS:
        raise WatchlistFull(f"A watchlist holds at most {MAX_ITEMS} symbols.")
    try:
        with transaction.atomic():
            return WatchlistItem.objects.create(user=user, symbol=symbol), True
    except IntegrityError:  # a concurrent request added it first
        return WatchlistItem.objects.get(user=user, symbol=symbol), False


def remove(user: User, item_id: int) -> WatchlistItem | None:
    """Delete one of the user's own items; None when the user has no such item."""
    item = WatchlistItem.objects.filter(user=user, pk=item_id).select_related("symbol").first()
    if item is not None:
        item.delete()
    return item


def has(user: User | AnonymousUser, symbol: Symbol) -> WatchlistItem | None:
    if not user.is_authenticated:
        return None
    return WatchlistItem.objects.filter(user=user, symbol=symbol).first()
