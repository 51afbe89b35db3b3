"""Tokens that must be refused, shared by the REST and WebSocket tests."""

from __future__ import annotations

import datetime as dt
import json

import jwt
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tokens import SessionRefreshToken


def forged_tokens(user: User) -> dict[str, str]:
    """One token per way a JWT must be refused, each otherwise valid for ``user``."""
    claims = dict(AccessToken.for_user(user).payload)
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-dt.timedelta(seconds=5))
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return {
        "alg_none": jwt.encode(claims, key=None, algorithm="none"),
        "wrong_key": jwt.encode(claims, "not-the-signing-key-" * 4, algorithm="HS256"),
        "other_algorithm": jwt.encode(claims, key + "-" * 64, algorithm="HS512"),
        "refresh_as_access": str(SessionRefreshToken.for_user(user)),
        "expired": str(expired),
        "tampered_payload": _tampered(str(AccessToken.for_user(user))),
    }


def _tampered(token: str) -> str:
    """The same signature over a payload whose user id was changed."""
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["user_id"] = str(int(claims["user_id"]) + 1)
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged_payload}.{signature}"
