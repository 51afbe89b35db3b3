"""REST endpoints of predictions (architecture section 6). Every view runs the global DRF
defaults: JWT or session auth, ``TierRateThrottle``, and the single error shape.

The Bearer-token cache hits of ``GET /api/prediction/{symbol}`` are answered before Django by
``predictions.api.fast``; everything else (session callers, misses) lands here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.openapi import error_response, error_responses
from core.api_errors import ApiError
from ingestion.models import Symbol
from predictions.api import service
from predictions.api.serializers import (
    AccuracySerializer,
    BatchSerializer,
    PredictionRecordSerializer,
    PredictionSerializer,
    SymbolListSerializer,
    SymbolSerializer,
)
from predictions.api.symbols import clean_symbol, invalid_symbol, require_symbol
from predictions.models import PredictionRecord

SOURCE_HEADER = "X-Prediction-Source"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ApiError(
        f"{name} must be true or false",
        code="invalid_parameter",
        details={"parameter": name, "value": value[:32]},
    )


SYMBOL_PATH = OpenApiParameter(
    "symbol",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Ticker, case-insensitive: 1-10 of A-Z 0-9 . - ^ (e.g. NVDA, BRK.B, ^GSPC)",
)


class PredictionDetailView(APIView):
    @extend_schema(
        operation_id="prediction_retrieve",
        tags=["predictions"],
        summary="Latest prediction of one symbol",
        description=(
            "Next-trading-day return prediction with its uncertainty. Served from the Redis "
            "cache, or from PostgreSQL when the cache misses or Redis is down (header "
            "`X-Prediction-Source: redis|postgres`). 503 when the latest prediction is older "
            "than `PREDICTION_STALE_SECONDS` (600 s by default)."
        ),
        parameters=[
            SYMBOL_PATH,
            OpenApiParameter(
                "include_features",
                OpenApiTypes.BOOL,
                description="Include the feature values the prediction was made from",
                default=False,
            ),
        ],
        responses={
            200: PredictionSerializer,
            400: error_response(400),
            **error_responses(401, 404, 429),
            503: error_response(503),
        },
    )
    def get(self, request: Request, symbol: str) -> Response:
        canonical = require_symbol(symbol)
        include = parse_bool(request.query_params.get("include_features"), "include_features")
        body, source = service.get_prediction(canonical, include)
        return Response(body, headers={SOURCE_HEADER: source})


class PredictionBatchView(APIView):
    @extend_schema(
        operation_id="predictions_batch",
        tags=["predictions"],
        summary="Latest predictions of several symbols",
        description=(
            "Comma-separated symbols, at most `API_BATCH_MAX_SYMBOLS` (100). Symbols without a "
            "servable prediction (unknown, not yet predicted, stale) are listed in `errors`; the "
            "request itself fails only when the list is malformed. Counts as one request."
        ),
        parameters=[
            OpenApiParameter(
                "symbols", OpenApiTypes.STR, required=True, description="e.g. NVDA,AAPL,MSFT"
            )
        ],
        responses={
            200: BatchSerializer,
            400: error_response(
                400,
                code="too_many_symbols",
                message="At most 100 symbols per request",
                details={"max": 100, "given": 250},
            ),
            **error_responses(401, 429, 503),
        },
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("symbols", "")
        requested = [part for part in (p.strip() for p in raw.split(",")) if part]
        if not requested:
            raise ApiError("symbols is required, e.g. ?symbols=NVDA,AAPL", code="invalid_parameter")
        limit = settings.API_BATCH_MAX_SYMBOLS
        if len(requested) > limit:
            raise ApiError(
                f"At most {limit} symbols per request",
                code="too_many_symbols",
                details={"max": limit, "given": len(requested)},
            )
        symbols: list[str] = []
        for part in requested:
            symbol = clean_symbol(part)
            if symbol is None:
                raise invalid_symbol(part)
            if symbol not in symbols:
                symbols.append(symbol)
        return Response(service.get_batch(symbols))


class HistoryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PredictionHistoryView(generics.ListAPIView[PredictionRecord]):
    serializer_class = PredictionRecordSerializer
    pagination_class = HistoryPagination

    def get_queryset(self) -> QuerySet[PredictionRecord]:
        symbol = require_symbol(self.kwargs["symbol"])
        symbol_id = Symbol.objects.filter(ticker=symbol).values_list("id", flat=True).first()
        if symbol_id is None:
            raise ApiError(
                f"Unknown symbol {symbol!r}",
                code="not_found",
                status_code=status.HTTP_404_NOT_FOUND,
                details={"symbol": symbol},
            )
        return PredictionRecord.objects.filter(symbol_id=symbol_id).order_by(
            "-data_timestamp", "-id"
        )

    @extend_schema(
        operation_id="prediction_history",
        tags=["predictions"],
        summary="Past predictions of one symbol with what happened",
        description=(
            "Newest first. `realised_return`, `abs_error` and `inside_interval` (realised "
            "return within [p10, p90]) are null until the target day's close is known."
        ),
        parameters=[SYMBOL_PATH],
        responses={
            200: PredictionRecordSerializer(many=True),
            **error_responses(400, 401, 404, 429),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SymbolSearchView(APIView):
    @extend_schema(
        operation_id="symbols_search",
        tags=["symbols"],
        summary="Autocomplete symbols by ticker or company name",
        description=(
            "Exact ticker first, then tickers starting with the text, then names containing it. "
            "Without `search`, the first symbols alphabetically."
        ),
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR, description="Ticker prefix or name part"),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="1-100 results (default 20)", default=20
            ),
        ],
        responses={200: SymbolListSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        search = request.query_params.get("search", "").strip()[:100]
        try:
            limit = int(request.query_params.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise ApiError(
                "limit must be an integer from 1 to 100",
                code="invalid_parameter",
                details={"parameter": "limit"},
            )
        queryset = Symbol.objects.filter(active=True)
        if search:
            upper = search.upper()
            queryset = (
                queryset.filter(Q(ticker__istartswith=search) | Q(name__icontains=search))
                .annotate(
                    rank=Case(
                        When(ticker=upper, then=Value(0)),
                        When(ticker__istartswith=search, then=Value(1)),
                        default=Value(2),
                        output_field=IntegerField(),
                    )
                )
                .order_by("rank", "ticker")
            )
        else:
            queryset = queryset.order_by("ticker")
        rows = queryset[:limit]
        return Response({"results": SymbolSerializer(rows, many=True).data})


class AccuracyView(APIView):
    @extend_schema(
        operation_id="accuracy",
        tags=["predictions"],
        summary="Rolling accuracy per model kind",
        description=(
            "Per model kind (`normal`, `earnings`) and window (`24h`, `30d` of data time): "
            "realised predictions, MAE against the naive zero-return forecast, p10-p90 "
            "coverage (target 0.80) and rank IC."
        ),
        responses={200: AccuracySerializer, **error_responses(401, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        from django.db import DatabaseError

        from predictions.accuracy import rolling_accuracy

        try:
            return Response(rolling_accuracy())
        except DatabaseError:
            raise service.service_unavailable() from None
