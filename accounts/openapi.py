"""OpenAPI pieces for the single error shape (``core.api_errors``), shared by every API view.

@extend_schema(responses={200: MySerializer, **error_responses(400, 404, 429)})
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="Machine-readable error code"),
                "message": serializers.CharField(help_text="Human-readable explanation"),
                "details": serializers.DictField(help_text="Extra context; may be empty"),
            },
        )
    },
)

_EXAMPLES: dict[int, tuple[str, str, str, dict[str, Any]]] = {
    400: ("Bad request", "invalid_symbol", "Malformed symbol 'N@VDA'", {"symbol": "N@VDA"}),
    401: (
        "Not authenticated",
        "not_authenticated",
        "Authentication credentials were not provided.",
        {},
    ),
    403: (
        "Forbidden",
        "permission_denied",
        "You do not have permission to perform this action.",
        {},
    ),
    404: ("Not found", "not_found", "Unknown symbol 'ZZZZ'", {"symbol": "ZZZZ"}),
    429: (
        "Rate limit exceeded (see Retry-After and X-RateLimit-* headers)",
        "throttled",
        "Request was throttled. Expected available in 1800 seconds.",
        {},
    ),
    503: (
        "Prediction stale or service unavailable",
        "prediction_stale",
        "Prediction for NVDA is older than 600 seconds",
        {"symbol": "NVDA", "age_sec": 4210},
    ),
}


def error_response(
    status: int,
    *,
    code: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    description: str | None = None,
) -> OpenApiResponse:
    default = _EXAMPLES.get(status, ("Error", "error", "Error", {}))
    body = {
        "error": {
            "code": code or default[1],
            "message": message or default[2],
            "details": default[3] if details is None else details,
        }
    }
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description or default[0],
        examples=[
            OpenApiExample(
                f"{status} {body['error']['code']}", value=body, status_codes=[str(status)]
            )
        ],
    )


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: error_response(status) for status in statuses}


class SessionJWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """The Bearer scheme of ``accounts.authentication.SessionJWTAuthentication`` (simplejwt's,
    plus the session revocation check) in the schema, as drf-spectacular shows simplejwt's."""

    target_class = "accounts.authentication.SessionJWTAuthentication"
