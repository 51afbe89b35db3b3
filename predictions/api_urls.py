"""Predictions API routes, plus the API-wide OpenAPI schema and its interactive docs."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from predictions.api import views

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
    path("schema", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "docs",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
]
