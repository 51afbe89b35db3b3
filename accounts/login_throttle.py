"""Brute-force protection for every sign-in form: the API's token endpoint, the website's login
and the admin's login.

Failed sign-ins are counted in Redis (shared by every server process) in fixed windows of
``LOGIN_THROTTLE_WINDOW_SECONDS``, per username (``LOGIN_FAILURES_PER_USER``: guessing one
account's password) and per client IP (``LOGIN_FAILURES_PER_IP``: trying many accounts). Once
either budget is spent, sign-ins from that username or IP are refused with 429 and
``Retry-After`` until the window ends, BEFORE the password is checked, so a correct guess during
the lockout teaches the attacker nothing. A successful sign-in clears the username's count.
Counting happens on Django's ``user_login_failed`` signal, which every ``authenticate()`` call
sends. When Redis is unreachable sign-ins fail open, as the API rate limits do. The counters use
the WORKER Redis preset (seconds, not the request path's 0.25 s): a loaded Redis must not make a
failed sign-in go uncounted, and the password hash beside it costs more anyway.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string

from accounts.throttling import INCR_SCRIPT, client_ip
from core.redis_clients import Preset, client

log = logging.getLogger(__name__)


def _window(now: float) -> tuple[int, int]:
    size = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    start = int(now // size) * size
    return start, start + size


def _user_ident(username: str) -> str:
    # Hashed: usernames (often e-mail addresses) need not sit in Redis in clear.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _keys(username: str | None, ip: str, start: int) -> list[tuple[str, int]]:
    """(Redis key, failure limit) of each budget a sign-in attempt draws on."""
    keys = [(f"loginfail:ip:{ip}:{start}", settings.LOGIN_FAILURES_PER_IP)]
    if username:
        keys.append(
            (f"loginfail:user:{_user_ident(username)}:{start}", settings.LOGIN_FAILURES_PER_USER)
        )
    return keys


def retry_after(username: str | None, ip: str) -> int | None:
    """Seconds until ``username``/``ip`` may try again; None when sign-in is allowed."""
    now = time.time()
    start, end = _window(now)
    keys = _keys(username, ip, start)
    try:
        counts = client(Preset.WORKER).mget([key for key, _ in keys])
    except redis.RedisError as exc:
        log.warning("Sign-in throttle not checked, Redis unavailable: %s", exc)
        return None
    if any(int(count or 0) >= limit for count, (_, limit) in zip(counts, keys, strict=True)):
        return max(math.ceil(end - now), 1)
    return None


def record_failure(username: str | None, ip: str) -> None:
    start, _ = _window(time.time())
    try:
        conn = client(Preset.WORKER)
        for key, _ in _keys(username, ip, start):
            conn.eval(INCR_SCRIPT, 1, key, settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    except redis.RedisError as exc:
        log.warning("Failed sign-in not counted, Redis unavailable: %s", exc)


def clear_user(username: str) -> None:
    start, _ = _window(time.time())
    try:
        client(Preset.WORKER).delete(f"loginfail:user:{_user_ident(username)}:{start}")
    except redis.RedisError as exc:
        log.warning("Sign-in failures of a user not cleared, Redis unavailable: %s", exc)


def failures(username: str) -> dict[str, int | None]:
    """The username's failed sign-ins in the current window (the data export); ``count`` is
    None when Redis is unreachable."""
    start, end = _window(time.time())
    try:
        raw = client(Preset.WORKER).get(f"loginfail:user:{_user_ident(username)}:{start}")
        count: int | None = int(raw or 0)
    except redis.RedisError as exc:
        log.warning("Failed sign-ins not read, Redis unavailable: %s", exc)
        count = None
    return {"limit": settings.LOGIN_FAILURES_PER_USER, "used": count, "reset_at": end}


def forget_user(username: str) -> None:
    """Drop the username's failure counters (current and previous window)."""
    start, _ = _window(time.time())
    size = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    ident = _user_ident(username)
    try:
        keys = [f"loginfail:user:{ident}:{window}" for window in (start, start - size)]
        client(Preset.WORKER).delete(*keys)
    except redis.RedisError as exc:  # they expire within two windows anyway
        log.warning("Sign-in failures of a user not dropped, Redis unavailable: %s", exc)


def _ip(request: Any) -> str:
    return client_ip(request) if request is not None else "unknown"


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    username = credentials.get("username")
    record_failure(username if isinstance(username, str) else None, _ip(request))


@receiver(user_logged_in, dispatch_uid="accounts.logged_in")
def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    clear_user(user.get_username())


def throttled_login(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an HTML login view (the website's, the admin's): a locked-out POST gets 429."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            wait = retry_after(request.POST.get("username"), _ip(request))
            if wait is not None:
                body = render_to_string(
                    "registration/login_throttled.html", {"minutes": math.ceil(wait / 60)}, request
                )
                response = HttpResponse(body, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapped
