"""The accuracy page: per model kind, MAE vs the naive forecast, coverage, rank IC over time."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.accuracy_data import accuracy_summary


def accuracy(request: HttpRequest) -> HttpResponse:
    charts = [("rank_ic", "Rank IC per year"), ("mae_ratio", "MAE / naive per year"),
              ("coverage", "80% coverage per year")]  # fmt: skip
    return render(request, "web/accuracy.html", {**accuracy_summary(), "wf_charts": charts})
