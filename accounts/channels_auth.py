"""JWT authentication for Channels (WebSocket) connections.

The access token comes from the ``token`` query parameter or the ``Sec-WebSocket-Protocol``
header: a client offers the two subprotocols ``jwt`` and ``<token>``; the server then selects
``jwt`` (a browser fails the handshake unless one offered subprotocol is selected, and echoing
the token itself would leak it into proxy logs). The middleware only records the outcome in the
scope (``auth``: a ``Principal`` or None, ``auth_error``, ``auth_subprotocol``, ``auth_token``);
the consumer accepts and closes with 4401 so the client sees a close code rather than a bare
HTTP 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import ParseResult, parse_qs

from channels.security.websocket import OriginValidator
from django.conf import settings

from accounts.auth_state import AuthError, aauthenticate

SUBPROTOCOL_MARKERS = ("jwt", "bearer")

# ASGI, as Channels passes it (plain dicts; Channels ships no type hints).
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def token_from_scope(scope: Scope) -> tuple[str | None, str | None]:
    """(token, subprotocol to select)."""
    protocols = [p.strip() for p in scope.get("subprotocols") or [] if p and p.strip()]
    marker = next((p for p in protocols if p.lower() in SUBPROTOCOL_MARKERS), None)
    if marker is not None:
        others = [p for p in protocols if p != marker]
        if others:
            return others[0], marker
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return (tokens[0] if tokens else None), marker


class JwtAuthMiddleware:
    def __init__(self, app: AsgiApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        token, subprotocol = token_from_scope(scope)
        scope = {
            **scope,
            "auth": None,
            "auth_error": None,
            "auth_subprotocol": subprotocol,
            "auth_token": token,  # re-checked when the user's credentials change
        }
        if token is None:
            scope["auth_error"] = AuthError("not_authenticated", "No token given")
        else:
            try:
                scope["auth"] = await aauthenticate(token)
            except AuthError as exc:
                scope["auth_error"] = exc
        return await self.app(scope, receive, send)


class BrowserOriginValidator(OriginValidator):  # type: ignore[misc]  # Channels is untyped
    """Checks the Origin of browser connections against ALLOWED_HOSTS, and lets clients that send
    no Origin (trading programs) through: the feed authenticates with a JWT, never a cookie, so
    cross-site WebSocket hijacking has nothing to ride on."""

    def __init__(self, application: AsgiApp) -> None:
        super().__init__(application, list(settings.ALLOWED_HOSTS))

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or bool(self.validate_origin(parsed_origin))
