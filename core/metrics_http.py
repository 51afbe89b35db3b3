"""API request metrics: one histogram (``stockpred_api_request_duration_seconds``) fed by the
Django middleware below for every /api/ view and by the ASGI fast path, which bypasses Django
(and django-prometheus) entirely. The ``route`` label is the URL name without its ``api-`` prefix
(``prediction`` for ``GET /api/prediction/{symbol}`` on both paths); ``source`` is the
``X-Prediction-Source`` header (redis/postgres) or ``none``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from core import metrics

API_PREFIX = "/api/"
SOURCE_HEADER = "X-Prediction-Source"
PREDICTION_ROUTE = "prediction"


def observe(route: str, method: str, status: int, source: str | None, seconds: float) -> None:
    metrics.API_REQUEST_SECONDS.labels(
        route=route, method=method, status=str(status), source=source or "none"
    ).observe(seconds)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or not match.url_name:
        return "unmatched"  # bounded: never the raw path (one series per URL would explode)
    return str(match.url_name).removeprefix("api-")


def _record(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    observe(
        route_of(request),
        request.method or "",
        response.status_code,
        response.headers.get(SOURCE_HEADER),
        time.perf_counter() - started,
    )


class ApiMetricsMiddleware:
    """Times every /api/ request through Django (sync or async, without a thread hop)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            _record(request, response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        if request.path.startswith(API_PREFIX):
            _record(request, response, started)
        return response
