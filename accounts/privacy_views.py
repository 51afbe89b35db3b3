"""``GET /api/me/export`` (everything the platform keeps about the caller) and ``DELETE /api/me``
(erase the caller's account). Authentication, tier throttling and the error shape are the API's
global defaults; the work is ``accounts.privacy``'s, shared with the profile page and the admin."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import privacy
from accounts.models import PrivacyEventVia, User
from accounts.openapi import error_response, error_responses
from core.api_errors import ApiError

CONFIRM_HEADER = "X-Confirm-Password"


def export_serializer() -> serializers.Serializer[Any]:
    """The export document's schema: its envelope and one section per registered holder."""
    notice_items = inline_serializer(
        name="PrivacyNoticeItem",
        fields={"data": serializers.CharField(), "purpose": serializers.CharField()},
        many=True,
    )
    envelope: dict[str, serializers.Field[Any, Any, Any, Any]] = {
        "format": serializers.CharField(help_text=f"`{privacy.EXPORT_FORMAT}`"),
        "generated_at": serializers.DateTimeField(),
        "reference": serializers.CharField(help_text="Reference of this export (a receipt)"),
        "notice": inline_serializer(
            name="PrivacyNotice",
            fields={"version": serializers.CharField(), "items": notice_items},
            help_text="What the platform stores and why, as shown at sign-up",
        ),
    }
    sections: dict[str, serializers.Field[Any, Any, Any, Any]] = {
        h.section: h.serializer(many=h.many, help_text=h.data) for h in privacy.holders()
    }
    return inline_serializer(name="PersonalDataExport", fields={**envelope, **sections})


class ErasureReceiptSerializer(serializers.Serializer[privacy.Receipt]):
    reference = serializers.CharField(help_text="Keep it: the record of the erasure has only this")
    erased_at = serializers.DateTimeField()
    removed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows removed or unlinked, per section"
    )


def _user(request: Request) -> User:
    return cast(User, request.user)  # IsAuthenticated (the default permission) let it through


class MeExportView(APIView):
    @extend_schema(
        operation_id="me_export",
        tags=["account"],
        summary="Export everything the platform keeps about you (JSON)",
        description=(
            "Account fields, tier, consents, watchlist, API token metadata (never a token), "
            "explanation requests, current rate-limit usage, sessions and admin changes about "
            "the account. Each export is recorded (kind, channel, time, counts; no personal data)."
        ),
        responses={200: export_serializer(), **error_responses(401, 429)},
    )
    def get(self, request: Request) -> Response:
        return Response(privacy.export(_user(request), PrivacyEventVia.API))


class MeView(APIView):
    @extend_schema(
        operation_id="me_delete",
        tags=["account"],
        summary="Delete your account and its personal data",
        description=(
            "Irreversible. Confirm with your current password in the `X-Confirm-Password` "
            "header (a token alone cannot delete the account; wrong passwords count as failed "
            "sign-ins). Every token is revoked and open WebSocket connections close with 4401 at "
            "once. Predictions, model versions and the prediction history are not personal and "
            "stay; explanations you requested stay without your link."
        ),
        parameters=[
            OpenApiParameter(
                CONFIRM_HEADER,
                # Not blank: HTTP strips a header value's surrounding spaces.
                {"type": "string", "minLength": 1, "pattern": r"\S"},
                OpenApiParameter.HEADER,
                required=True,
                description="Your current password",
            )
        ],
        responses={
            200: ErasureReceiptSerializer,
            400: error_response(
                400,
                code="confirmation_required",
                message="Confirm with your password in the X-Confirm-Password header",
                details={},
            ),
            403: error_response(
                403, code="wrong_password", message="The password is not correct.", details={}
            ),
            **error_responses(401, 429),
        },
    )
    def delete(self, request: Request) -> Response:
        user = _user(request)
        password = request.headers.get(CONFIRM_HEADER)
        if not password:
            raise ApiError(
                f"Confirm with your password in the {CONFIRM_HEADER} header",
                code="confirmation_required",
            )
        try:
            privacy.confirm_password(request._request, user, password)
        except privacy.PasswordRefused as exc:
            if exc.retry_after is not None:
                raise Throttled(exc.retry_after, str(exc)) from None
            raise ApiError(str(exc), code="wrong_password", status_code=403) from None
        try:
            receipt = privacy.erase(user, PrivacyEventVia.API)
        except privacy.AccountGone:  # a concurrent request erased it first
            raise ApiError("User not found", code="user_not_found", status_code=401) from None
        return Response(ErasureReceiptSerializer(receipt).data)
