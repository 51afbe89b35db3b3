"""API credentials for the REST API, issued from the profile page.

A user creates a simplejwt refresh/access pair; the pair is shown once (only the refresh token's
id, creation and expiry are kept, in simplejwt's outstanding-token table) and can be revoked,
which blacklists the refresh token so it can mint no more access tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tokens import SessionRefreshToken


@dataclass(frozen=True)
class IssuedPair:
    refresh: str
    access: str
    jti: str


def issue_pair(user: User) -> IssuedPair:
    refresh = SessionRefreshToken.for_user(user)  # also records the outstanding token
    return IssuedPair(refresh=str(refresh), access=str(refresh.access_token), jti=refresh["jti"])


def live_tokens(user: User) -> list[OutstandingToken]:
    """The user's refresh tokens that are neither expired nor revoked, newest first."""
    return list(
        OutstandingToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        ).order_by("-created_at")
    )


def revoke(user: User, jti: str) -> bool:
    """Blacklist one of the user's own refresh tokens; False when the user has no such token
    (another user's token id included)."""
    token = OutstandingToken.objects.filter(user=user, jti=jti).first()
    if token is None:
        return False
    BlacklistedToken.objects.get_or_create(token=token)
    return True


def websocket_token(user: User) -> str:
    """A short-lived access token the dashboard's script presents to /ws/predictions."""
    return str(AccessToken.for_user(user))
