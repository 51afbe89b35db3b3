"""WebSocket routes of the predictions feed (/ws/predictions)."""

from __future__ import annotations

websocket_urlpatterns: list = []
