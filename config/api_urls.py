"""Every path under /api/. Each app keeps its own API routes in its ``api_urls`` module."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("predictions.api_urls")),
    path("", include("explanations.api_urls")),
    path("", include("decisions.api_urls")),
]
