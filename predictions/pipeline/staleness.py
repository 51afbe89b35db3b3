"""Is a prediction stale? Used by the API and the website next to every prediction.

A prediction is stale when it was made more than ``PREDICTION_STALE_SECONDS`` ago: the pipeline
keeps serving the last good prediction when a cycle fails (e.g. a corrupt model file), and this
is how readers learn that it has stopped moving.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def _parse(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


def age_seconds(predicted_at: dt.datetime | str, now: dt.datetime | None = None) -> float:
    """Seconds since ``predicted_at`` (a datetime or the ISO string of ``pred:{SYMBOL}``)."""
    return ((now or timezone.now()) - _parse(predicted_at)).total_seconds()


def is_stale(predicted_at: dt.datetime | str | None, now: dt.datetime | None = None) -> bool:
    """True when the prediction is older than ``PREDICTION_STALE_SECONDS`` (or unknown)."""
    if predicted_at is None:
        return True
    return age_seconds(predicted_at, now) > settings.PREDICTION_STALE_SECONDS
