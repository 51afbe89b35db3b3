"""ASGI fast path for ``GET /api/prediction/{symbol}`` with a Bearer token.

The endpoint is the platform's hot path (1,000+ req/s on two cores). Through Django it would
pay for ten middlewares, a sync-only one among them (WhiteNoise), hence a thread hop, a
database connection per request (``CONN_MAX_AGE`` 0) and a user query for the JWT. Here the same
rules run in a few hundred microseconds, in this order, as in DRF:

1. the JWT (signature, expiry, type; user active and password unchanged, from a Redis-cached
   user state: ``accounts.auth_state``) -> 401;
2. the tier limit (``accounts.throttling``, same Redis counter as DRF) -> 429 + Retry-After;
3. the symbol grammar, ``include_features`` and ``horizons`` -> 400;
4. the cached prediction (``predictions.cache``); on a miss or a Redis error, PostgreSQL in
   a thread -> 404/503.

The Redis reads of steps 1, 2 and 4 (user state, rate-limit counter, prediction) go in ONE
pipelined round trip; the answers are then applied in the order above. (A validly signed token
of a deactivated user thus still moves its counter once: harmless.)

The body is built by ``predictions.api.service`` like the DRF view's (a test asserts both paths
answer identically). Requests without a Bearer header (the website's session), other methods and
other paths go to Django unchanged.
"""

from __future__ import annotations

import json
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http.request import split_domain_port, validate_host

from accounts.auth_state import (
    AuthError,
    aload_state,
    check_state,
    decode_state,
    state_key,
    validate_token,
)
from accounts.throttling import INCR_SCRIPT, RateDecision, decide, limit_for, window_key
from core import metrics_http
from core.api_errors import ApiError, error_body
from core.redis_clients import async_client
from core.security_headers import fast_path_headers
from features.store import features_key
from predictions import cache
from predictions.api import service
from predictions.api.params import parse_bool, parse_horizons
from predictions.api.symbols import clean_symbol, invalid_symbol
from predictions.api.views import SOURCE_HEADER
from predictions.latest import LatestPrediction

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, bytes, Headers]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]
T = TypeVar("T")

_PATH = re.compile(r"^/api/prediction/([^/]+)$")
_BASE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"vary", b"Authorization"),
]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            parts = value.split()
            if len(parts) == 2 and parts[0].lower() == b"bearer":
                return str(parts[1].decode("latin-1"))
            return None
    return None


# PostgreSQL reads run in asgiref's thread pool (thread_sensitive=False), several at once with one
# connection per thread, instead of queueing on the single thread-sensitive thread: measured
# fallback throughput x2, p95 /2 (bench api).
async def _db(fn: Callable[..., T], *args: Any) -> T:
    return await sync_to_async(_db_call, thread_sensitive=False)(fn, *args)


_db_wrappers: weakref.WeakSet[BaseDatabaseWrapper] = weakref.WeakSet()


def close_db_connections() -> None:
    """Close the PostgreSQL connections the pool threads opened (tests, whose database must be
    droppable; the threads of a closed event loop leave theirs to the garbage collector)."""
    for wrapper in list(_db_wrappers):
        raw = wrapper.connection
        if raw is not None:
            raw.close()
            wrapper.connection = None
    _db_wrappers.clear()


def _db_call(fn: Callable[..., T], *args: Any) -> T:
    _db_wrappers.add(connections[DEFAULT_DB_ALIAS])
    try:
        return fn(*args)
    except (ApiError, DatabaseError):
        # A broken connection would otherwise stay in this long-lived thread for good.
        if connection.connection is not None and connection.errors_occurred:
            connection.close()
        raise


def _host_allowed(scope: Scope) -> bool:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


class PredictionFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _PATH.match(scope["path"])
            if match is not None:
                token = _bearer(scope)
                # A Host outside ALLOWED_HOSTS goes to Django, which refuses it (400).
                if token is not None and _host_allowed(scope):
                    started = time.perf_counter()
                    status, body, headers = await self.answer(scope, match.group(1), token)
                    _observe(status, headers, started)
                    headers.append((b"content-length", str(len(body)).encode()))
                    headers += fast_path_headers(scope.get("scheme", "http"), scope["headers"])
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

    async def answer(self, scope: Scope, raw_symbol: str, token: str) -> Answer:
        headers: Headers = []
        try:
            return await self._answer(scope, raw_symbol, token, headers)
        except ApiError as exc:
            headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
            return _error(exc.status_code, exc.code, str(exc.detail), exc.details, headers)
        except Exception:
            log.exception("Unhandled error in the prediction fast path")
            return _error(500, "internal_error", "Internal server error", {}, headers)

    async def _answer(self, scope: Scope, raw_symbol: str, token: str, headers: Headers) -> Answer:
        """The steps of the module docstring, in order: token, one Redis round trip, user
        state, tier limit, request checks, then the prediction."""
        try:
            claims = validate_token(token)  # CPU only
        except AuthError as exc:
            return _unauthorized(exc, headers)
        request = _parse_request(scope, raw_symbol)
        now = time.time()
        counter, reset_at = window_key(f"user:{claims.user_id}", now)
        replies = await _round_trip(claims.user_id, counter, request)
        state = decode_state(replies[0]) if replies else None
        if state is None:
            state = await aload_state(claims.user_id, cache=replies is not None)
        try:
            principal = check_state(state, claims)
        except AuthError as exc:
            return _unauthorized(exc, headers)
        limit = limit_for(principal.tier)
        if limit is not None and replies is not None:
            throttled = _throttle(decide(int(replies[1]), limit, reset_at, now), headers)
            if throttled is not None:
                return throttled
        symbol = request.checked_symbol()
        body, source = await _prediction(symbol, request, replies[2:] if replies else None)
        headers.append((SOURCE_HEADER.lower().encode(), source.encode()))
        return 200, json.dumps(body).encode(), headers


@dataclass(frozen=True)
class _Request:
    raw_symbol: str
    symbol: str | None
    include: bool
    bad_query: ApiError | None
    horizons: tuple[int, ...] | None = None

    @property
    def fetch(self) -> bool:
        return self.symbol is not None and self.bad_query is None

    def checked_symbol(self) -> str:
        """The symbol, once the request is known to be valid; raises the 400 otherwise."""
        if self.symbol is None:
            raise invalid_symbol(self.raw_symbol)
        if self.bad_query is not None:
            raise self.bad_query
        return self.symbol


def _parse_request(scope: Scope, raw_symbol: str) -> _Request:
    # Errors are raised only after authentication and the rate limit, as DRF orders them.
    text = scope.get("query_string", b"").decode("latin-1")
    query = parse_qs(text)
    try:
        include = parse_bool(query.get("include_features", [None])[-1], "include_features")
        # Blank values kept: "?horizons=" is a 400 here as in the DRF view.
        horizons = parse_horizons(
            parse_qs(text, keep_blank_values=True).get("horizons", [None])[-1]
        )
    except ApiError as exc:
        return _Request(raw_symbol, clean_symbol(raw_symbol), False, exc)
    return _Request(raw_symbol, clean_symbol(raw_symbol), include, None, horizons)


async def _round_trip(user_id: int, counter: str, request: _Request) -> list[Any] | None:
    """User state, rate-limit counter, prediction (and features) in one pipelined round trip;
    None when Redis is down (no rate limit: fail open; auth and data from PostgreSQL)."""
    try:
        async with async_client().pipeline(transaction=False) as pipe:
            pipe.get(state_key(user_id))
            pipe.eval(INCR_SCRIPT, 1, counter, settings.API_RATE_WINDOW_SECONDS)
            if request.fetch and request.symbol is not None:
                pipe.get(cache.pred_key(request.symbol))
                if request.include:
                    pipe.hgetall(features_key(request.symbol))
            return list(await pipe.execute())
    except (redis.RedisError, OSError) as exc:
        log.warning("Redis unavailable in the prediction fast path: %s", exc)
        return None


def _throttle(decision: RateDecision, headers: Headers) -> Answer | None:
    headers += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
    if decision.allowed:
        return None
    headers.append((b"retry-after", str(decision.retry_after).encode()))
    message = f"Request was throttled. Expected available in {decision.retry_after} seconds."
    return _error(429, "throttled", message, {}, headers)


async def _prediction(
    symbol: str, request: _Request, replies: list[Any] | None
) -> tuple[dict[str, Any], str]:
    """(body, source): from the Redis replies without leaving the event loop when they hold
    the prediction; PostgreSQL (in a thread) otherwise."""
    include, horizons = request.include, request.horizons
    prediction = LatestPrediction.from_cache(symbol, replies[0]) if replies else None
    if prediction is None:
        body = await _db(service.answer_from_database, symbol, include, horizons)
        return body, service.SOURCE_DATABASE
    features = None
    if include and replies is not None:
        features = service.live_features(prediction, replies[1])
        if features is None:  # hash gone or of another day: the prediction's snapshot
            features = await _db(service.snapshot_features, symbol)
    return service.shape(prediction, features=features, horizons=horizons), service.SOURCE_CACHE


_SOURCE = SOURCE_HEADER.lower().encode()


def _observe(status: int, headers: Headers, started: float) -> None:
    source = next((v.decode() for k, v in headers if k == _SOURCE), None)
    elapsed = time.perf_counter() - started
    metrics_http.observe(metrics_http.PREDICTION_ROUTE, "GET", status, source, elapsed)


def _unauthorized(exc: AuthError, headers: Headers) -> Answer:
    headers.append((b"www-authenticate", b'Bearer realm="api"'))
    return _error(401, exc.code, exc.message, {}, headers)


def _error(
    status: int, code: str, message: str, details: dict[str, Any], headers: Headers
) -> Answer:
    return status, json.dumps(error_body(code, message, details)).encode(), headers
