"""WebSocket routes of the predictions feed (/ws/predictions)."""

from __future__ import annotations

from django.urls import URLPattern, path

from predictions.consumers import PredictionConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/predictions", PredictionConsumer.as_asgi()),
]
