"""One error shape for every API error:

    {"error": {"code": "not_found", "message": "Unknown symbol ZZZZ", "details": {...}}}

Views raise ``ApiError`` (or DRF's exceptions); the handler turns both into that shape and never
lets a stack trace reach the client.
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status_code: int = status.HTTP_400_BAD_REQUEST,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.details = details or {}
        self.headers = headers or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _code_for(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return "invalid" if isinstance(exc, exceptions.ValidationError) else exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = drf_exception_handler(exc, context)
    if response is None:
        log.error("Unhandled API error", exc_info=exc)
        return Response(
            error_body("internal_error", "Internal server error"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, ApiError):
        body = error_body(exc.code, str(exc.detail), exc.details)
        for name, value in exc.headers.items():
            response[name] = value
    elif isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "Invalid request", {"fields": exc.detail})
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = _code_for(exc) if isinstance(exc, exceptions.APIException) else "error"
        if isinstance(detail, dict) and "detail" in detail:
            # simplejwt's errors carry {"detail": ..., "code": ..., "messages": [...]}.
            code = str(detail.get("code") or code)
            detail = detail["detail"]
        body = error_body(code, str(detail))
    response.data = body
    return response
