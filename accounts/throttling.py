"""Per-tier API rate limits, counted in Redis so every server process shares one budget.

Fixed windows of ``API_RATE_WINDOW_SECONDS`` (one hour) per user (anonymous callers: per IP):
free 100, pro 1,000, enterprise unlimited (``API_RATE_LIMITS``). Requests the website makes
with the user's browser session count in a separate per-user budget (``API_RATE_WEB``).
One Lua script increments the window's counter and sets its expiry atomically, in one round
trip. When Redis is unreachable the
limit fails open: the API keeps serving (from PostgreSQL) rather than refusing everyone.

Every counted request gets ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (Unix time the window ends) headers, added by ``accounts.middleware``;
a refused one is a 429 in the single error shape with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.redis_clients import Preset, async_client, client

if TYPE_CHECKING:
    # Not at run time: rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES).
    from rest_framework.views import APIView

log = logging.getLogger(__name__)

# INCR the window counter; the first hit of a window sets its expiry. Returns the new count.
INCR_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

RATE_LIMIT_ATTR = "api_rate_limit"  # set on the Django HttpRequest for the middleware


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix time the window ends
    retry_after: int  # seconds until a refused caller may retry (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


def limit_for(tier: str | None) -> int | None:
    """Requests per window for a tier (``None``: unlimited); unknown tiers get the free limit."""
    limits = settings.API_RATE_LIMITS
    key = tier if tier in limits else "free"
    return limits[key]


def window_key(ident: str, now: float) -> tuple[str, int]:
    """(Redis key of the current window of ``ident``, Unix time the window ends)."""
    start, reset_at = _window(now)
    return _key(ident, start), reset_at


def _window(now: float) -> tuple[int, int]:
    size = settings.API_RATE_WINDOW_SECONDS
    start = int(now // size) * size
    return start, start + size


def decide(count: int, limit: int, reset_at: int, now: float) -> RateDecision:
    allowed = count <= limit
    return RateDecision(
        allowed=allowed,
        limit=limit,
        remaining=max(limit - count, 0),
        reset_at=reset_at,
        retry_after=0 if allowed else max(math.ceil(reset_at - now), 1),
    )


def _key(ident: str, start: int) -> str:
    return f"ratelimit:{ident}:{start}"


def hit(ident: str, limit: int) -> RateDecision | None:
    """Count one request of ``ident``; ``None`` when Redis is down (fail open)."""
    now = time.time()
    start, reset_at = _window(now)
    try:
        count = int(
            client(Preset.REQUEST).eval(
                INCR_SCRIPT, 1, _key(ident, start), settings.API_RATE_WINDOW_SECONDS
            )
        )
    except redis.RedisError as exc:
        log.warning("Rate limit not counted, Redis unavailable: %s", exc)
        return None
    return decide(count, limit, reset_at, now)


async def ahit(ident: str, limit: int) -> RateDecision | None:
    """``hit`` for async code (the prediction fast path, the WebSocket feed)."""
    now = time.time()
    start, reset_at = _window(now)
    try:
        count = int(
            await async_client().eval(
                INCR_SCRIPT, 1, _key(ident, start), settings.API_RATE_WINDOW_SECONDS
            )
        )
    except (redis.RedisError, OSError) as exc:
        log.warning("Rate limit not counted, Redis unavailable: %s", exc)
        return None
    return decide(count, limit, reset_at, now)


def _is_website_session(request: Request) -> bool:
    return isinstance(request.successful_authenticator, SessionAuthentication)


def client_ip(request: Request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy sets it.
    return request.META.get("REMOTE_ADDR") or "unknown"


class TierRateThrottle(BaseThrottle):
    """DRF's global throttle: the user's tier limit, or the anonymous per-IP limit."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        user = request.user
        if user is not None and user.is_authenticated and _is_website_session(request):
            # The website's own calls (autocomplete, explanation polling) made with the user's
            # browser session: a separate per-user budget, so using the site never eats the
            # tier quota sold for programmatic (JWT) access, while staying bounded.
            limit = settings.API_RATE_LIMITS["web"]
            ident = f"web:{user.pk}"
        elif user is not None and user.is_authenticated:
            limit = limit_for(getattr(user, "tier", None))
            ident = f"user:{user.pk}"
        else:
            limit = settings.API_RATE_LIMITS["anon"]
            ident = f"ip:{client_ip(request)}"
        if limit is None:
            return True
        decision = hit(ident, limit)
        self.decision = decision
        if decision is None:
            return True
        setattr(request._request, RATE_LIMIT_ATTR, decision)
        return decision.allowed

    def wait(self) -> float | None:
        decision = getattr(self, "decision", None)
        return float(decision.retry_after) if decision is not None else None


# The budgets a signed-in user draws on: (ident prefix, name in the data export).
USER_BUDGETS = (("user", "api"), ("web", "website"))


def usage(user_id: int, tier: str) -> dict[str, dict[str, int | None]]:
    """The user's requests counted so far in the current window, per budget (the data export):
    ``used`` is None when Redis is unreachable, ``limit`` None when the tier is unlimited."""
    now = time.time()
    start, reset_at = _window(now)
    limits = {"api": limit_for(tier), "website": settings.API_RATE_LIMITS["web"]}
    keys = [_key(f"{prefix}:{user_id}", start) for prefix, _ in USER_BUDGETS]
    try:
        counts: list[int | None] = [int(c or 0) for c in client(Preset.WORKER).mget(keys)]
    except redis.RedisError as exc:
        log.warning("Rate-limit usage not read, Redis unavailable: %s", exc)
        counts = [None] * len(keys)
    return {
        name: {"limit": limits[name], "used": count, "reset_at": reset_at}
        for (_, name), count in zip(USER_BUDGETS, counts, strict=True)
    }


def forget_user(user_id: int) -> int:
    """Drop the user's counters (current and previous window); returns how many existed."""
    start, _ = _window(time.time())
    size = settings.API_RATE_WINDOW_SECONDS
    keys = [
        _key(f"{prefix}:{user_id}", window)
        for prefix, _ in USER_BUDGETS
        for window in (start, start - size)
    ]
    try:
        return int(client(Preset.WORKER).delete(*keys))
    except redis.RedisError as exc:  # they expire within two windows anyway
        log.warning("Rate-limit counters of user %s not dropped: %s", user_id, exc)
        return 0
