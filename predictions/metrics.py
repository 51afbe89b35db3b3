"""Scrape-time figures of the predictions (web ``/metrics`` only): freshness of the newest
prediction, how many symbols were updated recently, rolling accuracy per model kind and the
active model versions. Accuracy is a database aggregate, so it is cached for a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from predictions.accuracy import rolling_accuracy
from predictions.models import ModelStatus, ModelVersion, Prediction

ACCURACY_TTL_SECONDS = 60.0
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def cached_accuracy() -> dict[str, dict[str, dict[str, Any]]]:
    with _cache_lock:
        if time.monotonic() - _cache.get("at", -1e9) > ACCURACY_TTL_SECONDS:
            _cache["value"] = rolling_accuracy()
            _cache["at"] = time.monotonic()
        value: dict[str, dict[str, dict[str, Any]]] = _cache["value"]
        return value


def freshness() -> dict[str, Any]:
    """Symbols predicted, those updated within PREDICTION_STALE_SECONDS, newest age (s)."""
    now = timezone.now()
    fresh_since = now - timedelta(seconds=settings.PREDICTION_STALE_SECONDS)
    newest = Prediction.objects.aggregate(newest=Max("predicted_at"))["newest"]
    return {
        "total": Prediction.objects.count(),
        "fresh": Prediction.objects.filter(predicted_at__gte=fresh_since).count(),
        "newest_age": (now - newest).total_seconds() if newest else None,
    }


_ACCURACY_FIELDS = (
    ("n", "stockpred_model_realised_predictions", "Realised predictions in the window."),
    ("mae", "stockpred_model_mae", "Rolling MAE of the next-day return (fraction)."),
    ("mae_naive", "stockpred_model_mae_naive", "MAE of the naive 'return = 0' forecast."),
    ("coverage_p10_p90", "stockpred_model_interval_coverage", "Share inside [p10, p90]."),
    ("rank_ic", "stockpred_model_rank_ic", "Mean daily Spearman rank IC."),
)


class PredictionCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._freshness()
        yield from self._accuracy()
        yield from self._models()

    def _freshness(self) -> Iterator[GaugeMetricFamily]:
        state = freshness()
        symbols = GaugeMetricFamily(
            "stockpred_predictions_symbols",
            "Symbols with a prediction, by state (fresh: updated within "
            "PREDICTION_STALE_SECONDS; total).",
            labels=["state"],
        )
        symbols.add_metric(["total"], state["total"])
        symbols.add_metric(["fresh"], state["fresh"])
        yield symbols
        if state["newest_age"] is not None:
            age = GaugeMetricFamily(
                "stockpred_newest_prediction_age_seconds",
                "Seconds since the newest prediction was made.",
            )
            age.add_metric([], state["newest_age"])
            yield age

    def _accuracy(self) -> Iterator[GaugeMetricFamily]:
        accuracy = cached_accuracy()
        for key, name, doc in _ACCURACY_FIELDS:
            family = GaugeMetricFamily(name, doc, labels=["kind", "window"])
            for kind, windows in accuracy.items():
                for window, figures in windows.items():
                    if figures.get(key) is not None:
                        family.add_metric([kind, window], float(figures[key]))
            yield family

    def _models(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "stockpred_model_active_info",
            "1 for each active model version.",
            labels=["kind", "version"],
        )
        active = ModelVersion.objects.filter(status=ModelStatus.ACTIVE)
        for kind, version in active.values_list("kind", "version"):
            family.add_metric([kind, version], 1)
        yield family
