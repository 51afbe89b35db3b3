"""REST endpoints of the signals. Same defaults as every view: JWT or session auth,
``TierRateThrottle``, the single error shape."""

from __future__ import annotations

from django.db import DatabaseError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.openapi import error_response, error_responses
from core.api_errors import ApiError
from decisions import signals
from decisions.api_views import int_param, unavailable
from predictions.api.params import SYMBOL_PATTERN, int_schema
from predictions.api.symbols import require_symbol

SIDES = ("long", "short")


class SignalDriverSerializer(serializers.Serializer[dict[str, object]]):
    feature = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the JSON key shadows Field.label
    value = serializers.FloatField()
    contribution = serializers.FloatField(help_text="Return units; signed")
    direction = serializers.ChoiceField(choices=["up", "down"])


class SignalSummarySerializer(serializers.Serializer[dict[str, object]]):
    symbol = serializers.CharField()
    data_date = serializers.DateField(allow_null=True)
    predicted_return_1d = serializers.FloatField()
    p10 = serializers.FloatField(allow_null=True)
    p50 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    prob_up = serializers.FloatField(allow_null=True, help_text="P(next-day return > 0)")
    decile = serializers.IntegerField(help_text="1 lowest .. 10 highest forecast today")
    rank = serializers.IntegerField(help_text="1 = highest forecast today")
    n_symbols = serializers.IntegerField()
    model_type = serializers.CharField()
    model_version = serializers.CharField()


class SignalSerializer(SignalSummarySerializer):
    prob_method = serializers.CharField()
    drivers = SignalDriverSerializer(many=True)
    drivers_info = serializers.DictField()


class SignalListSerializer(serializers.Serializer[dict[str, object]]):
    side = serializers.ChoiceField(choices=list(SIDES))
    n_symbols = serializers.IntegerField()
    prob_method = serializers.CharField()
    results = SignalSummarySerializer(many=True)


class SignalDetailView(APIView):
    @extend_schema(
        operation_id="signal_retrieve",
        tags=["signals"],
        summary="Signal of one symbol: probability of a rise, decile rank, drivers",
        description=(
            "From the symbol's latest prediction (latest data day only). `prob_up` = P(next-day "
            "return > 0) from the predicted quantiles (method in `prob_method`); `decile` ranks "
            "the median forecast among every symbol predicted that day; `drivers` are the "
            "model's top features by occlusion contribution (return units)."
        ),
        parameters=[
            OpenApiParameter(
                "symbol", {"type": "string", "pattern": SYMBOL_PATTERN}, OpenApiParameter.PATH
            )
        ],
        responses={
            200: SignalSerializer,
            400: error_response(400, code="invalid_symbol", message="Malformed symbol '$$'"),
            **error_responses(401, 404, 429, 503),
        },
    )
    def get(self, request: Request, symbol: str) -> Response:
        canonical = require_symbol(symbol)
        try:
            found = signals.signal(canonical)
        except DatabaseError:
            raise unavailable() from None
        if found is None:
            raise ApiError(
                f"No prediction of {canonical!r} from the latest data day",
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
                details={"symbol": canonical},
            )
        return Response(found)


class SignalListView(APIView):
    @extend_schema(
        operation_id="signals_list",
        tags=["signals"],
        summary="The strongest long or short signals of the latest day",
        parameters=[
            OpenApiParameter("top", int_schema(1, 100, 20), description="1-100"),
            OpenApiParameter("side", OpenApiTypes.STR, enum=list(SIDES), default="long"),
        ],
        responses={200: SignalListSerializer, **error_responses(400, 401, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        top = int_param(request, "top", 20, 1, 100)
        side = request.query_params.get("side", "long")
        if side not in SIDES:
            raise ApiError(
                "side must be long or short",
                code="invalid_parameter",
                details={"parameter": "side", "value": side[:16]},
            )
        try:
            return Response(signals.extremes(top, side))
        except DatabaseError:
            raise unavailable() from None
