"""JWT checks for code outside DRF (the prediction fast path and the WebSocket feed).

DRF views authenticate with simplejwt's ``JWTAuthentication`` (``CHECK_REVOKE_TOKEN`` on: a token
whose password-hash claim no longer matches the user's is refused). Here the same rules run
without a database query per request: the user's state (active, tier, password-hash digest) is
cached in Redis for ``STATE_TTL_SECONDS`` and dropped by ``accounts.signals`` whenever the user is
saved, so a password change or deactivation takes effect on the next request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from functools import lru_cache

import redis
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from accounts.tokens import SESSION_CLAIM
from core.redis_clients import Preset, async_client, client

log = logging.getLogger(__name__)

STATE_TTL_SECONDS = 60


@dataclass(frozen=True)
class AuthState:
    user_id: int
    active: bool
    tier: str
    password_digest: str
    # Sessions (``accounts.tokens.SESSION_CLAIM``) whose refresh token was revoked and has not
    # expired yet: the access tokens minted from them are refused too.
    revoked_sessions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: who, which tier, and when the token expires (Unix time)."""

    user_id: int
    tier: str
    expires_at: int
    session_id: str | None = None


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def state_key(user_id: int | str) -> str:
    return f"authstate:{user_id}"


def revoked_sessions(user_id: int) -> tuple[str, ...]:
    """Session ids of the user's blacklisted refresh tokens that have not expired."""
    return tuple(
        BlacklistedToken.objects.filter(
            token__user_id=user_id, token__expires_at__gt=timezone.now()
        ).values_list("token__jti", flat=True)
    )


def _load_state(user_id: int) -> AuthState | None:
    user = User.objects.filter(pk=user_id).only("id", "is_active", "tier", "password").first()
    if user is None:
        return None
    return AuthState(
        user.pk,
        user.is_active,
        user.tier,
        get_md5_hash_password(user.password),
        revoked_sessions(user.pk),
    )


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    expires_at: int
    password_digest: str | None
    session_id: str | None = None


@lru_cache(maxsize=20_000)
def _decode(raw_token: str) -> TokenClaims:
    # Signature, type and expiry checked once per distinct token (access tokens have no
    # blacklist); callers re-check expiry on every use. Failures raise, so are never cached.
    try:
        token = AccessToken(raw_token)  # type: ignore[arg-type]  # simplejwt annotates it as Token
    except TokenError:
        raise AuthError("token_not_valid", "Given token not valid for any token type") from None
    try:
        user_id = int(token[api_settings.USER_ID_CLAIM])
    except (KeyError, TypeError, ValueError):
        raise AuthError("token_not_valid", "Token contained no recognizable user") from None
    return TokenClaims(
        user_id,
        int(token["exp"]),
        token.get(api_settings.REVOKE_TOKEN_CLAIM),
        token.get(SESSION_CLAIM),
    )


def validate_token(raw_token: str) -> TokenClaims:
    """The claims of a valid, unexpired access token; raises AuthError (no I/O)."""
    claims = _decode(raw_token)
    if claims.expires_at <= time.time():
        raise AuthError("token_not_valid", "Given token not valid for any token type")
    return claims


def check_state(state: AuthState | None, claims: TokenClaims) -> Principal:
    # Codes and messages as simplejwt's JWTAuthentication, so both API paths answer alike.
    if state is None:
        raise AuthError("user_not_found", "User not found")
    if not state.active:
        raise AuthError("user_inactive", "User is inactive")
    if claims.password_digest != state.password_digest:
        raise AuthError("password_changed", "The user's password has been changed.")
    if claims.session_id is not None and claims.session_id in state.revoked_sessions:
        raise AuthError("token_revoked", "The token's session has been revoked.")
    return Principal(
        user_id=claims.user_id,
        tier=state.tier,
        expires_at=claims.expires_at,
        session_id=claims.session_id,
    )


def decode_state(raw: bytes | str | None) -> AuthState | None:
    if not raw:
        return None
    fields = json.loads(raw)
    fields["revoked_sessions"] = tuple(fields.get("revoked_sessions") or ())
    return AuthState(**fields)


def _load_state_reconnecting(user_id: int) -> AuthState | None:
    """``_load_state`` outside Django's request cycle (the API fast path), where nothing closes
    a connection that a PostgreSQL restart broke: it stayed broken in the thread-sensitive
    thread and every later state load answered 500 until the web server was restarted
    (measured by ``bench faults``). Drop an unusable connection first; if the server went away
    since, reconnect once."""
    close_old_connections()
    try:
        return _load_state(user_id)
    except (OperationalError, InterfaceError):
        connection.close()
        return _load_state(user_id)


async def aload_state(user_id: int, cache: bool = True) -> AuthState | None:
    """The user's state from PostgreSQL, then cached in Redis (unless Redis is known down)."""
    state = await sync_to_async(_load_state_reconnecting)(user_id)
    if state is not None and cache:
        with contextlib.suppress(redis.RedisError, OSError):
            await async_client().set(
                state_key(user_id), json.dumps(asdict(state)), ex=STATE_TTL_SECONDS
            )
    return state


async def aauthenticate(raw_token: str) -> Principal:
    claims = validate_token(raw_token)
    try:
        state = decode_state(await async_client().get(state_key(claims.user_id)))
        redis_up = True
    except (redis.RedisError, OSError):
        state, redis_up = None, False
    if state is None:
        state = await aload_state(claims.user_id, cache=redis_up)
    return check_state(state, claims)


def cached_state(user_id: int) -> AuthState | None:
    """The user's state from Redis, else PostgreSQL (then cached unless Redis is down)."""
    conn = client(Preset.REQUEST)
    try:
        state = decode_state(conn.get(state_key(user_id)))
        redis_up = True
    except redis.RedisError:
        state, redis_up = None, False
    if state is None:
        state = _load_state(user_id)
        if state is not None and redis_up:
            with contextlib.suppress(redis.RedisError):
                conn.set(state_key(user_id), json.dumps(asdict(state)), ex=STATE_TTL_SECONDS)
    return state


def authenticate(raw_token: str) -> Principal:
    claims = validate_token(raw_token)
    return check_state(cached_state(claims.user_id), claims)


def session_revoked(user_id: int, session_id: str | None) -> bool:
    """Whether the refresh token that opened ``session_id`` has been revoked (DRF's path)."""
    if session_id is None:
        return False
    state = cached_state(user_id)
    return state is not None and session_id in state.revoked_sessions


def forget(user_id: int) -> None:
    try:
        client(Preset.REQUEST).delete(state_key(user_id))
    except redis.RedisError as exc:  # the entry expires within STATE_TTL_SECONDS anyway
        log.warning("Could not drop cached auth state of user %s: %s", user_id, exc)
