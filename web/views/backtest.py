"""The backtest page: equity curves and figures of the stored ``manage.py backtest`` results."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions import store
from decisions.backtest import BENCHMARK, STRATEGIES

LABELS = {
    "long_short_decile": "Long-short deciles (equal weight)",
    "long_only_top_decile": "Long-only top decile",
    "long_short_inverse_width": "Long-short deciles, sized by 1 / interval width",
    BENCHMARK: "S&P 500 buy-and-hold",
}
SOURCES = {
    "walkforward": "Walk-forward predictions (models retrained each year, tested on the next)",
    "records": "The platform's own stored predictions",
}


def _rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"key": name, "label": LABELS[name], "after": result["strategies"][name],
         "before": result["strategies"][name]["before_costs"]}
        for name in STRATEGIES
        if name in result["strategies"]
    ]  # fmt: skip
    bench = result[BENCHMARK]
    rows.append({"key": BENCHMARK, "label": LABELS[BENCHMARK], "after": bench, "before": bench})
    return rows


def backtest_context() -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    for source, label in SOURCES.items():
        result = store.load(source)
        if result is None:
            results.append({"source": source, "label": label, "result": None})
            continue
        results.append({"source": source, "label": label, "result": result, "rows": _rows(result)})
        curves[source] = {"labels": LABELS, "series": result.get("curves", {})}
    return {"results": results, "curves": curves}


def backtest(request: HttpRequest) -> HttpResponse:
    return render(request, "web/backtest.html", backtest_context())
