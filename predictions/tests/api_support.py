"""Helpers shared by the API and WebSocket tests: symbols, cached/stored predictions, tokens,
and a way to call the real ASGI application (fast path included) from a sync test."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from ingestion.models import Symbol
from predictions.models import Prediction


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def make_symbol(ticker: str, name: str = "", **extra: Any) -> Symbol:
    return Symbol.objects.create(
        ticker=ticker, name=name or f"{ticker} Inc.", exchange="NASDAQ", sector="Tech", **extra
    )


def cached_record(symbol: str, **over: Any) -> dict[str, Any]:
    """A ``pred:{SYMBOL}`` value as the pipeline writes it (docs/contracts.md)."""
    record = {
        "symbol": symbol,
        "current_price": 150.0,
        "predicted_return_1d": 0.0123,
        "predicted_price": 151.845,
        "uncertainty_sigma": 0.018,
        "p10": -0.010,
        "p50": 0.012,
        "p90": 0.035,
        "uncertainty_method": "quantile_conformal",
        "model_type": "normal_day",
        "model_version": "v-test-1",
        "predicted_at": iso(timezone.now() - dt.timedelta(seconds=5)),
        "data_timestamp": "2024-03-05T00:00:00Z",
    }
    record.update(over)
    return record


def put_cached(redis_client, symbol: str, **over: Any) -> dict[str, Any]:
    record = cached_record(symbol, **over)
    redis_client.set(f"pred:{symbol}", json.dumps(record), ex=120)
    return record


def store_prediction(symbol: Symbol, **over: Any) -> Prediction:
    values: dict[str, Any] = {
        "current_price": 99.0,
        "predicted_return_1d": -0.004,
        "predicted_price": 98.604,
        "uncertainty_sigma": 0.02,
        "p10": -0.03,
        "p50": -0.004,
        "p90": 0.021,
        "uncertainty_method": "quantile_conformal",
        "model_type": "earnings_day",
        "model_version": "v-db-1",
        "predicted_at": timezone.now() - dt.timedelta(seconds=30),
        "data_timestamp": dt.datetime(2024, 3, 4, tzinfo=dt.UTC),
        "features_snapshot": {"return_1d": 0.01, "rsi_14": 55.0},
    }
    values.update(over)
    return Prediction.objects.create(symbol=symbol, **values)


def access_token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


class AsgiResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def asgi_get(
    path: str,
    *,
    token: str | None = None,
    query: dict | None = None,
    host: str = "testserver",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> AsgiResponse:
    """GET through ``config.asgi.application`` (fast path, then Django), from sync code: database
    work inside runs on this thread, so it sees the test's transaction."""
    from config.asgi import application
    from predictions.api.fast import close_db_connections

    headers = [(b"host", host.encode()), *(headers or [])]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query or {}).encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects; Django cancels this
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    # As Django's test client does: keep the test's connection (and its transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        async_to_sync(application)(scope, receive, send)
    finally:
        close_db_connections()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return AsgiResponse(start["status"], names, body)
