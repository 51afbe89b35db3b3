"""Decisions API routes: market regime and signals."""

from __future__ import annotations

from django.urls import path

from decisions import api_signals, api_views

urlpatterns = [
    path("market/regime", api_views.MarketRegimeView.as_view(), name="api-market-regime"),
    path("signals", api_signals.SignalListView.as_view(), name="api-signals"),
    path("signals/<str:symbol>", api_signals.SignalDetailView.as_view(), name="api-signal"),
]
