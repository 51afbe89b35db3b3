"""WebSocket routes; the predictions feed lives in predictions/routing.py."""

from __future__ import annotations

from django.urls import URLPattern

from predictions.routing import websocket_urlpatterns as prediction_ws

websocket_urlpatterns: list[URLPattern] = [*prediction_ws]
