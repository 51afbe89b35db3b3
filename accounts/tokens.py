"""Refresh tokens that name their session, so revoking one can end what it opened.

simplejwt copies a refresh token's custom claims into the access tokens it mints (all but type,
exp, iat and jti). A ``sid`` claim equal to the refresh token's own jti thus reaches every access
token minted from it: when that refresh token is blacklisted, those access tokens are refused
(``accounts.auth_state``) and the WebSocket connections they opened are closed
(``accounts.sessions``). Access tokens minted alone (the dashboard's feed token) carry no ``sid``.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

SESSION_CLAIM = "sid"


class SessionRefreshToken(RefreshToken):
    @classmethod
    def for_user(cls, user: Any) -> SessionRefreshToken:
        token = super().for_user(user)
        token[SESSION_CLAIM] = token[api_settings.JTI_CLAIM]
        return token  # type: ignore[return-value]
