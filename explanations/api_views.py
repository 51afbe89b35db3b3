"""``POST /api/explanation/{symbol}`` (start a job) and ``GET /api/explanation/{symbol}``
(its result). Authentication, tier throttling and the error shape are the API's global defaults.

POST answers 202 ``{job_id, status: "processing", estimated_time_sec}`` after queueing a job on
the ``explain`` queue (sent once the request's transaction commits). When a fresh explanation of
the symbol's current prediction is cached it answers 200 ``{job_id, status: "completed",
estimated_time_sec: 0, explanation}`` instead, and when a job for the symbol is already queued
or running it answers 202 with that job rather than starting a second one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import redis
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_errors import ApiError
from core.tasking import enqueue
from explanations import serializers as s
from explanations.models import Explanation, ExplanationStatus
from explanations.service import DEPTHS, fresh_cached
from predictions import latest

# A queued job older than this is considered lost (e.g. no worker) and a new one is started.
STALE_JOB = timedelta(minutes=5)


def new_job_id() -> str:
    return "exp_" + secrets.token_hex(12)


def _check_symbol(symbol: str) -> str:
    from ingestion.models import Symbol
    from predictions.models import Prediction

    symbol = symbol.upper()
    if not Symbol.objects.filter(ticker=symbol).exists():
        raise ApiError(f"Unknown symbol {symbol}", code="not_found", status_code=404)
    if not Prediction.objects.filter(symbol__ticker=symbol).exists():
        try:
            has_live = bool(latest.from_cache([symbol]))
        except redis.RedisError:
            has_live = False
        if not has_live:
            raise ApiError(
                f"No prediction for {symbol} to explain yet",
                code="no_prediction",
                status_code=404,
            )
    return symbol


class ExplanationView(APIView):
    @extend_schema(
        operation_id="explanation_create",
        summary="Start generating an explanation of the symbol's latest prediction",
        request=s.ExplanationRequestSerializer,
        responses={
            202: s.JobAcceptedSerializer,
            200: OpenApiResponse(s.ExplanationCompletedSerializer, "Fresh cached explanation"),
            400: OpenApiResponse(description="Invalid depth (error shape)"),
            404: OpenApiResponse(description="Unknown symbol or no prediction (error shape)"),
        },
    )
    def post(self, request: Request, symbol: str) -> Response:
        body = s.ExplanationRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        depth = body.validated_data["depth"]
        symbol = _check_symbol(symbol)

        cached = fresh_cached(symbol)
        if cached is not None and depth != "deep":
            return Response(
                {
                    "job_id": cached.get("job_id"),
                    "status": "completed",
                    "estimated_time_sec": 0,
                    "explanation": cached["explanation"],
                },
                status=status.HTTP_200_OK,
            )
        running = Explanation.objects.filter(
            symbol=symbol,
            depth=depth,
            status__in=[ExplanationStatus.QUEUED, ExplanationStatus.PROCESSING],
            created_at__gte=timezone.now() - STALE_JOB,
        ).first()
        if running is not None:
            return Response(
                {
                    "job_id": running.job_id,
                    "status": "processing",
                    "estimated_time_sec": DEPTHS[depth]["estimate"],
                },
                status=status.HTTP_202_ACCEPTED,
            )
        job = Explanation.objects.create(
            job_id=new_job_id(),
            symbol=symbol,
            depth=depth,
            requested_by=request.user if request.user.is_authenticated else None,
        )
        job_id = job.job_id

        enqueue("explanations.tasks.generate_explanation", job_id)
        return Response(
            {
                "job_id": job_id,
                "status": "processing",
                "estimated_time_sec": DEPTHS[depth]["estimate"],
            },
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        operation_id="explanation_retrieve",
        summary="The latest explanation of a symbol, or the progress of its job",
        responses={
            200: s.ExplanationCompletedSerializer,
            202: s.ExplanationProcessingSerializer,
            404: s.ExplanationNotFoundSerializer,
            503: OpenApiResponse(description="The latest job failed (error shape)"),
        },
    )
    def get(self, request: Request, symbol: str) -> Response:
        from explanations import cache

        symbol = symbol.upper()
        cached = cache.get(symbol)
        if cached is not None:
            return Response(
                {
                    "status": "completed",
                    "job_id": cached.get("job_id"),
                    "explanation": cached["explanation"],
                }
            )
        job = Explanation.objects.filter(symbol=symbol).order_by("-created_at").first()
        if job is None:
            return Response(
                {"status": "not_found", "message": f"No explanation job found for {symbol}"},
                status=status.HTTP_404_NOT_FOUND,
            )
        if job.status in (ExplanationStatus.QUEUED, ExplanationStatus.PROCESSING):
            return Response(
                {"status": "processing", "job_id": job.job_id, "progress": job.progress},
                status=status.HTTP_202_ACCEPTED,
            )
        if job.status == ExplanationStatus.FAILED:
            raise ApiError(
                f"The explanation job for {symbol} failed",
                code="explanation_failed",
                status_code=503,
                details={"job_id": job.job_id},
            )
        return Response({"status": "completed", "job_id": job.job_id, "explanation": job.result})
