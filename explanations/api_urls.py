from __future__ import annotations

from django.urls import path

from explanations.api_views import ExplanationView, PredictionReviewView

urlpatterns = [
    path("explanation/<str:symbol>", ExplanationView.as_view(), name="api-explanation"),
    path(
        "prediction/<str:symbol>/review",
        PredictionReviewView.as_view(),
        name="api-prediction-review",
    ),
]
