"""``GET /metrics`` of the web server: the process's metrics (or, in multiprocess mode, those of
every web process, from ``PROMETHEUS_MULTIPROC_DIR``) plus the scrape-time collectors named in
``settings.METRICS_SCRAPE_COLLECTORS``. A collector that fails is logged and left out, so one
broken component never blanks the whole scrape."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class _Guarded(Collector):
    def __init__(self, inner: Collector) -> None:
        self.inner = inner

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.inner.collect())
        except Exception:
            log.exception("metrics collector %s failed", type(self.inner).__name__)
            return []


class _ProcessRegistry(Collector):
    """This process's default registry, as one collector of the per-scrape registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@cache
def scrape_collectors() -> list[Collector]:
    return [_Guarded(import_string(path)()) for path in settings.METRICS_SCRAPE_COLLECTORS]


def registry() -> CollectorRegistry:
    scrape = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
    else:
        scrape.register(_ProcessRegistry())
    for collector in scrape_collectors():
        scrape.register(collector)
    return scrape


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
