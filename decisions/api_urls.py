"""Decisions API routes: market regime and signals."""

from __future__ import annotations

from django.urls import path

from decisions import api_views

urlpatterns = [
    path("market/regime", api_views.MarketRegimeView.as_view(), name="api-market-regime"),
]
