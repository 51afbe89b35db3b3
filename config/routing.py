"""WebSocket routes; the predictions feed lives in predictions/routing.py."""

from __future__ import annotations

from predictions.routing import websocket_urlpatterns as prediction_ws

websocket_urlpatterns: list = [*prediction_ws]
