from __future__ import annotations

from django.urls import path

from accounts import privacy_views, views

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="api-token"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="api-token-refresh"),
    path("me", privacy_views.MeView.as_view(), name="api-me"),
    path("me/export", privacy_views.MeExportView.as_view(), name="api-me-export"),
]
