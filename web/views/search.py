"""Symbol search without JavaScript (the dashboard's autocomplete uses /api/symbols)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ingestion.models import Symbol

LIMIT = 25


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    results: list[Symbol] = []
    if query:
        exact = Symbol.objects.filter(ticker=query.upper()).first()
        if exact is not None:
            return redirect("symbol", ticker=exact.ticker)
        results = list(
            Symbol.objects.filter(active=True)
            .filter(Q(ticker__istartswith=query) | Q(name__icontains=query))
            .order_by("ticker")[:LIMIT]
        )
    return render(request, "web/search.html", {"query": query, "results": results})
