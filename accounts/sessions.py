"""Ending a user's open WebSocket sessions when their credentials stop being valid.

The WebSocket feed joins every connection to its user's group (``core.groups.user_group``).
``notify`` sends that group a ``session.check`` event once the change is committed (a consumer
re-reading the state before the commit would cache the old one); each connection then re-validates
its token against the fresh state and closes with 4401 when it no longer passes. Redis being
down must not fail the save that triggered it: the feed's own token expiry still bounds the
session.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.auth_state import forget
from core.groups import SESSION_CHECK_EVENT, user_group

log = logging.getLogger(__name__)


def _send(user_id: int, revoked_session: str | None) -> None:
    forget(user_id)  # again after the commit: a read in between may have cached the old state
    layer = get_channel_layer()
    if layer is None:
        return
    event = {"type": SESSION_CHECK_EVENT, "revoked_session": revoked_session}
    try:
        async_to_sync(layer.group_send)(user_group(user_id), event)
    except Exception as exc:  # noqa: BLE001 - any layer failure; the save itself stands
        log.warning("Could not tell the sessions of user %s to re-check: %s", user_id, exc)


def notify(user_id: int, revoked_session: str | None = None) -> None:
    """Have every open WebSocket connection of the user re-check its token (after commit)."""
    forget(user_id)
    transaction.on_commit(lambda: _send(user_id, revoked_session))
