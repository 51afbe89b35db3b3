"""Predictions API routes, plus the API-wide OpenAPI schema and its interactive docs."""

from __future__ import annotations

import threading
from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from predictions.api import views


class SchemaView(SpectacularAPIView):
    """One schema generation at a time per process: drf-spectacular loads its extension classes
    lazily and not thread-safely (two first requests at once: one sets an optional extension's
    ``target_class`` to None while the other reads it -> 500; seen with 7 concurrent requests)."""

    _lock = threading.Lock()

    # The override keeps the schema view's own description (drf-spectacular decorates its get).
    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self._lock:
            response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
            return response


urlpatterns = [
    path("prediction/<str:symbol>", views.PredictionDetailView.as_view(), name="api-prediction"),
    path(
        "prediction/<str:symbol>/history",
        views.PredictionHistoryView.as_view(),
        name="api-prediction-history",
    ),
    path("predictions", views.PredictionBatchView.as_view(), name="api-predictions"),
    path("symbols", views.SymbolSearchView.as_view(), name="api-symbols"),
    path("accuracy", views.AccuracyView.as_view(), name="api-accuracy"),
    path(
        "accuracy/walkforward",
        views.WalkForwardAccuracyView.as_view(),
        name="api-accuracy-walkforward",
    ),
    path("schema", SchemaView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "docs",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
]
