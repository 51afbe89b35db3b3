"""Token serializers: simplejwt's, plus the revocation check on refresh."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from accounts.tokens import SessionRefreshToken


def credential_field(**kwargs: Any) -> serializers.RegexField:
    """A non-empty string taken as sent: the schema (minLength 1, no NUL) states exactly what is
    accepted; DRF's default would trim whitespace and then refuse '  ' as blank."""
    return serializers.RegexField(
        NO_NUL, trim_whitespace=False, min_length=1, max_length=4096, **kwargs
    )


NO_NUL = r"^[^\x00]*$"  # DRF refuses NUL characters in any string


class SessionTokenObtainPairSerializer(TokenObtainPairSerializer):
    """simplejwt's login serializer; its refresh token names its session (``accounts.tokens``)."""

    token_class = SessionRefreshToken

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = credential_field(write_only=True)
        self.fields["password"] = credential_field(
            write_only=True, style={"input_type": "password"}
        )


class RevocableTokenRefreshSerializer(TokenRefreshSerializer):
    """Refuses a refresh token issued before the user's last password change (simplejwt checks
    that claim on access tokens only) or for an inactive user."""

    refresh = credential_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = RefreshToken(attrs["refresh"])  # signature, expiry, blacklist
        except TokenError as exc:
            raise AuthenticationFailed(str(exc), code="token_not_valid") from None
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = None if user_id is None else User.objects.filter(pk=user_id).first()
        if user is None or not user.is_active:
            raise AuthenticationFailed("No active account for this token", code="user_inactive")
        claim = refresh.payload.get(api_settings.REVOKE_TOKEN_CLAIM)
        if claim != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The user's password has been changed", code="password_changed"
            )
        return super().validate(attrs)


class TokenPairResponseSerializer(serializers.Serializer[dict[str, str]]):
    access = serializers.CharField(help_text="Access token (JWT), valid 1 hour")
    refresh = serializers.CharField(help_text="Refresh token (JWT), valid 30 days")


class AccessResponseSerializer(serializers.Serializer[dict[str, str]]):
    access = serializers.CharField(help_text="New access token (JWT), valid 1 hour")
