from __future__ import annotations

from django.urls import path

from explanations.api_views import ExplanationView

urlpatterns = [
    path("explanation/<str:symbol>", ExplanationView.as_view(), name="api-explanation"),
]
