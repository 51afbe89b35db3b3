"""Everything under /api/ answers in one JSON error shape and carries its rate-limit headers.

DRF views already render errors through ``core.api_errors``; this middleware covers what never
reaches DRF: Django's own 404 for an unknown /api/ path, a 405 from a plain view, and any 500
(which must never be Django's debug page, whatever ``DEBUG`` says).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.throttling import RATE_LIMIT_ATTR
from core.api_errors import error_body

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Authentication credentials were not provided"),
    403: ("permission_denied", "You do not have permission to perform this action"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    500: ("internal_error", "Internal server error"),
}


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _shape(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code >= 400 and not _is_json(response):
        code, message = _STATUS_CODES.get(
            response.status_code, ("error", f"HTTP {response.status_code}")
        )
        details = {"path": request.path} if response.status_code == 404 else {}
        shaped = JsonResponse(error_body(code, message, details), status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                shaped[header] = response[header]
        response = shaped
    decision = getattr(request, RATE_LIMIT_ATTR, None)
    if decision is not None:
        for name, value in decision.headers().items():
            response[name] = value
    return response


GetResponse = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class ApiMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        response = cast(HttpResponse, self.get_response(request))  # sync chain: a response
        return _shape(request, response) if request.path.startswith(API_PREFIX) else response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        # An async chain (is_async): get_response returns an awaitable.
        response = await cast(Awaitable[HttpResponse], self.get_response(request))
        return _shape(request, response) if request.path.startswith(API_PREFIX) else response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view crashed under /api/: log it and answer 500 in the error shape (no debug page)."""
        if not request.path.startswith(API_PREFIX):
            return None
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        if isinstance(exception, Http404):
            return JsonResponse(error_body("not_found", "Not found"), status=404)
        if isinstance(exception, PermissionDenied):
            return JsonResponse(error_body("permission_denied", "Permission denied"), status=403)
        log.error("Unhandled error under /api/", exc_info=exception)
        return JsonResponse(error_body("internal_error", "Internal server error"), status=500)
