"""WebSocket routes. The predictions feed (/ws/predictions) is added by the API work."""

from __future__ import annotations

websocket_urlpatterns: list = []
