from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="api-token"),
    path("auth/token/refresh", views.TokenRefreshView.as_view(), name="api-token-refresh"),
]
