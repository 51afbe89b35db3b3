"""The one way the platform writes and reads instants in its contracts (JSON, Redis).

UTC with a ``Z``, microseconds kept when there are any (``datetime.isoformat``): the pipeline
stamps a cycle once and writes the same instant to Redis and PostgreSQL, and both answers of
the same prediction must print the same ``predicted_at``.
"""

from __future__ import annotations

import datetime as dt


def iso_z(moment: dt.datetime) -> str:
    """``2025-07-09T20:00:01.250000Z`` (``...:01Z`` on a whole second); naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def iso_z_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def parse_instant(value: dt.datetime | str) -> dt.datetime:
    """An aware datetime from a datetime or an ISO text (``Z`` or an offset; naive is UTC).
    Raises ValueError on a text that is not an instant."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
