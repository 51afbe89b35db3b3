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
from core.enums import ONE_DAY_TYPES
from ingestion.models import Symbol
from predictions.api import service
from predictions.api.params import (
    HORIZONS_PATTERN,
    SYMBOL_LIST_PATTERN,
    SYMBOL_PATTERN,
    bool_schema,
    int_schema,
    parse_bool,
    parse_horizons,
    parse_int,
)
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
SYMBOL_PATH = OpenApiParameter(
    "symbol",
    {"type": "string", "pattern": SYMBOL_PATTERN},
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
                bool_schema(),
                description="Include the feature values the prediction was made from",
            ),
            OpenApiParameter(
                "horizons",
                {"type": "string", "pattern": HORIZONS_PATTERN},
                description=(
                    "Comma-separated forecast horizons in trading days (1, 5, 20), e.g. "
                    "`1,5,20`: adds the `horizons` list. Without it the body is unchanged."
                ),
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
        horizons = parse_horizons(request.query_params.get("horizons"))
        body, source = service.get_prediction(canonical, include, horizons)
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
                "symbols",
                {"type": "string", "pattern": SYMBOL_LIST_PATTERN},
                required=True,
                description="1-100 comma-separated symbols, e.g. NVDA,AAPL,MSFT",
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
        requested = [part for part in raw.split(",") if part.strip(" ")]
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
    """DRF's page-number pagination with strict parameters: a malformed or out-of-range
    ``page``/``page_size`` is a 400 (DRF would silently use the default page size, clamp it to
    the maximum, or answer 404 for a non-numeric page)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    max_page = 10**9

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        return parse_int(
            raw, "page_size", default=self.page_size, minimum=1, maximum=self.max_page_size
        )

    def get_page_number(self, request: Request, paginator: Any) -> int:
        raw = request.query_params.get(self.page_query_param)
        return parse_int(raw, "page", default=1, minimum=1, maximum=self.max_page)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (404 past the last page)",
                "schema": int_schema(1, self.max_page, 1),
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Records per page, 1-{self.max_page_size}",
                "schema": int_schema(1, self.max_page_size, self.page_size),
            },
        ]


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
        # The one-day history (the longer horizons' records are accuracy data, issue 19).
        return PredictionRecord.objects.filter(
            symbol_id=symbol_id, model_type__in=ONE_DAY_TYPES
        ).order_by("-data_timestamp", "-id")

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
            OpenApiParameter("limit", int_schema(1, 100, 20), description="1-100 results"),
        ],
        responses={200: SymbolListSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request: Request) -> Response:
        # NUL cannot go into a PostgreSQL text parameter: dropped, not a 500.
        search = request.query_params.get("search", "").replace("\x00", "").strip()[:100]
        limit = parse_int(
            request.query_params.get("limit"), "limit", default=20, minimum=1, maximum=100
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
            "Per model kind (`normal`, `earnings`, and the longer horizons `horizon_5d`, "
            "`horizon_20d`, realised h trading days later) and window (`24h`, `30d` of data "
            "time): realised predictions, MAE against the naive zero-return forecast, p10-p90 "
            "coverage (target 0.80) and rank IC; the horizons also the momentum baseline's."
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


class WalkForwardAccuracyView(APIView):
    @extend_schema(
        operation_id="accuracy_walkforward",
        tags=["predictions"],
        summary="Stored walk-forward evaluation per model kind",
        description=(
            "Per model kind (`normal`, `earnings`, `horizon_5d`, `horizon_20d`; null when never "
            "run): the stored result of "
            "`manage.py walkforward` — `years` (per test year: n, mae, mae_naive, mae_ratio, ic, "
            "rank_ic, icir, hit_rate, coverage_p10_p90, mean_width_p10_p90, pinball and the "
            "baselines on the same rows), `summary` over test years >= 2023, `config`, "
            "`machine`, the active version of the kind, and whether the run used its inputs "
            "(`inputs_match_active_model`) and its point head (`point_model_match_active_model`)."
        ),
        responses={200: OpenApiTypes.OBJECT, **error_responses(401, 429)},
    )
    def get(self, request: Request) -> Response:
        from predictions.ml.wf_store import active_results

        return Response(active_results())
