"""simplejwt's JWT authentication plus the session revocation check (``accounts.tokens``)."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from accounts.auth_state import session_revoked
from accounts.tokens import SESSION_CLAIM


class SessionJWTAuthentication(JWTAuthentication):
    """Refuses an access token minted from a revoked refresh token, like the fast path and the
    WebSocket feed do (``accounts.auth_state.check_state``)."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if session_revoked(user.pk, validated_token.get(SESSION_CLAIM)):
            raise AuthenticationFailed(
                "The token's session has been revoked.", code="token_revoked"
            )
        return user
