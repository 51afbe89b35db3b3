"""JWT endpoints: POST /api/auth/token and POST /api/auth/token/refresh."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import login_throttle
from accounts.openapi import error_responses
from accounts.serializers import (
    AccessResponseSerializer,
    RevocableTokenRefreshSerializer,
    SessionTokenObtainPairSerializer,
    TokenPairResponseSerializer,
)
from accounts.throttling import client_ip


class TokenObtainView(jwt_views.TokenObtainPairView):
    serializer_class = SessionTokenObtainPairSerializer

    @extend_schema(
        tags=["auth"],
        summary="Obtain an access/refresh token pair",
        description=(
            "Exchange a username and password for an access token (1 hour) and a refresh token "
            "(30 days). Send the access token as `Authorization: Bearer <token>`. Changing the "
            "password revokes every token issued before. After repeated failed sign-ins for a "
            "username or from an address, sign-in is refused with 429 and `Retry-After` until "
            "the window ends."
        ),
        responses={200: TokenPairResponseSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        wait = login_throttle.retry_after(
            username if isinstance(username, str) else None, client_ip(request)
        )
        if wait is not None:  # refused before the password is checked
            raise Throttled(wait, "Too many failed sign-in attempts")
        response = super().post(request, *args, **kwargs)
        if isinstance(username, str):  # no login() here, so no user_logged_in signal
            login_throttle.clear_user(username)
        return response


class TokenRefreshView(jwt_views.TokenRefreshView):
    serializer_class = RevocableTokenRefreshSerializer

    @extend_schema(
        tags=["auth"],
        summary="Exchange a refresh token for a new access token",
        responses={200: AccessResponseSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(serializer.validated_data)
