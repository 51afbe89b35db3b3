"""REST endpoint of the market regime (signals: ``api_signals``). Every view runs the global
DRF defaults: JWT or session auth, ``TierRateThrottle``, and the single error shape."""

from __future__ import annotations

from django.db import DatabaseError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.openapi import error_responses
from core.api_errors import ApiError
from decisions import regime_store
from predictions.api.params import int_schema, parse_int


def unavailable() -> ApiError:
    return ApiError(
        "Service unavailable",
        code="service_unavailable",
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    # The strict grammar the schema declares (predictions.api.params.int_schema).
    return parse_int(
        request.query_params.get(name), name, default=default, minimum=low, maximum=high
    )


class RegimeDaySerializer(serializers.Serializer[dict[str, object]]):
    date = serializers.DateField()
    regime = serializers.ChoiceField(choices=["calm", "normal", "turbulent"])
    probability = serializers.FloatField()


class RegimeSerializer(RegimeDaySerializer):
    probabilities = serializers.DictField(child=serializers.FloatField())
    model_version = serializers.CharField()
    method = serializers.CharField()
    history = RegimeDaySerializer(many=True)


class MarketRegimeView(APIView):
    @extend_schema(
        operation_id="market_regime",
        tags=["market"],
        summary="Today's market regime with its probability and recent history",
        description=(
            "A 3-state Gaussian hidden Markov model of daily S&P 500 returns (calm, normal, "
            "turbulent by fitted volatility), refitted each year on the years before it; each "
            "day is labelled from the returns BEFORE it (one-step-ahead filtered probability). "
            "404 until `python manage.py regimes` has stored labels."
        ),
        parameters=[
            OpenApiParameter("days", int_schema(0, 500, 60), description="History days, 0-500")
        ],
        responses={200: RegimeSerializer, **error_responses(400, 401, 404, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        days = int_param(request, "days", 60, 0, 500)
        try:
            found = regime_store.current(history_days=days)
        except DatabaseError:
            raise unavailable() from None
        if found is None:
            raise ApiError(
                "No market regime stored yet",
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
            )
        return Response(found)
