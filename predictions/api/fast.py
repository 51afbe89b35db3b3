"""ASGI fast path for ``GET /api/prediction/{symbol}`` with a Bearer token.

The endpoint is the platform's hot path (1,000+ req/s on two cores). Through Django it would
pay for ten middlewares, a sync-only one among them (WhiteNoise), hence a thread hop, a
database connection per request (``CONN_MAX_AGE`` 0) and a user query for the JWT. Here the same
rules run in a few hundred microseconds, in this order, as in DRF:

1. the JWT (signature, expiry, type; user active and password unchanged, from a Redis-cached
   user state: ``accounts.auth_state``) -> 401;
2. the tier limit (``accounts.throttling``, same Redis counter as DRF) -> 429 + Retry-After;
3. the symbol grammar and ``include_features`` -> 400;
4. Redis ``pred:{SYMBOL}`` (one GET); on a miss or a Redis error, PostgreSQL in a thread -> 404/503.

The body is built by ``predictions.api.service`` like the DRF view's (a test asserts both paths
answer identically). Requests without a Bearer header (the website's session), other methods and
other paths go to Django unchanged.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection

from accounts.auth_state import AuthError, aauthenticate
from accounts.throttling import ahit, limit_for
from core.api_errors import ApiError, error_body
from predictions.api import service
from predictions.api.symbols import clean_symbol, invalid_symbol
from predictions.api.views import SOURCE_HEADER, parse_bool

log = logging.getLogger(__name__)

_PATH = re.compile(r"^/api/prediction/([^/]+)$")
_BASE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"vary", b"Authorization"),
]


def _bearer(scope: dict) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            parts = value.split()
            if len(parts) == 2 and parts[0].lower() == b"bearer":
                return parts[1].decode("latin-1")
            return None
    return None


def _from_database(symbol: str, include_features: bool) -> dict[str, Any]:
    try:
        return service.from_database(symbol, include_features)
    except (ApiError, DatabaseError):
        # A broken connection would otherwise stay in this long-lived thread for good.
        if connection.connection is not None and connection.errors_occurred:
            connection.close()
        raise


class PredictionFastPath:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _PATH.match(scope["path"])
            if match is not None:
                token = _bearer(scope)
                if token is not None:
                    status, body, headers = await self.answer(scope, match.group(1), token)
                    await send(
                        {
                            "type": "http.response.start",
                            "status": status,
                            "headers": [*_BASE_HEADERS, *headers],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    async def answer(self, scope: dict, raw_symbol: str, token: str) -> tuple[int, bytes, list]:
        headers: list[tuple[bytes, bytes]] = []
        try:
            try:
                principal = await aauthenticate(token)
            except AuthError as exc:
                headers.append((b"www-authenticate", b'Bearer realm="api"'))
                return _error(401, exc.code, exc.message, {}, headers)
            limit = limit_for(principal.tier)
            if limit is not None:
                decision = await ahit(f"user:{principal.user_id}", limit)
                if decision is not None:
                    headers += [
                        (k.lower().encode(), v.encode()) for k, v in decision.headers().items()
                    ]
                    if not decision.allowed:
                        headers.append((b"retry-after", str(decision.retry_after).encode()))
                        message = (
                            "Request was throttled. Expected available in "
                            f"{decision.retry_after} seconds."
                        )
                        return _error(429, "throttled", message, {}, headers)
            symbol = clean_symbol(raw_symbol)
            if symbol is None:
                raise invalid_symbol(raw_symbol)
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            include = parse_bool(query.get("include_features", [None])[-1], "include_features")
            body = await service.aget_cached(symbol, include)
            source = service.SOURCE_CACHE
            if body is None:
                body = await sync_to_async(_from_database)(symbol, include)
                source = service.SOURCE_DATABASE
        except ApiError as exc:
            headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
            return _error(exc.status_code, exc.code, str(exc.detail), exc.details, headers)
        except Exception:
            log.exception("Unhandled error in the prediction fast path")
            return _error(500, "internal_error", "Internal server error", {}, headers)
        headers.append((SOURCE_HEADER.lower().encode(), source.encode()))
        return 200, json.dumps(body).encode(), headers


def _error(status: int, code: str, message: str, details: dict, headers: list) -> tuple:
    return status, json.dumps(error_body(code, message, details)).encode(), headers
