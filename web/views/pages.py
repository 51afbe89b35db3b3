"""Static-ish pages: landing and about (templates/404.html is Django's own 404 page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ingestion.models import Symbol
from predictions.models import Prediction


def landing(request: HttpRequest) -> HttpResponse:
    stats = {
        "symbols": Symbol.objects.filter(active=True).count(),
        "predicted": Prediction.objects.count(),
    }
    return render(request, "web/landing.html", {"stats": stats})


def about(request: HttpRequest) -> HttpResponse:
    return render(request, "web/about.html")
