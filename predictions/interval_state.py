"""The persisted online interval calibration (``IntervalCalibration`` rows, one per kind).

``served_for_cycle`` is called by the cycle BEFORE inference and says which scale each kind's
intervals get (remembering it per data day, so a redelivered cycle serves the same one);
``update_after_realise`` is called AFTER the cycle's realise stage with the cycle's data day and
reads only records whose target day is that day. ``health`` is the /healthz view of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from predictions.intervals import (
    MODEL_TYPE_OF_KIND,
    NOMINAL_MISS,
    Calibrator,
    Served,
    scores,
)
from predictions.models import IntervalCalibration, ModelStatus, ModelVersion, PredictionRecord

log = logging.getLogger(__name__)


def _fresh(kind: str, version: str) -> IntervalCalibration:
    return IntervalCalibration(
        kind=kind,
        model_version=version,
        alpha=NOMINAL_MISS,
        scale=None,
        state=Calibrator(kind).to_state(),
        n_days=0,
        reset_at=timezone.now(),
    )


def _read(row: IntervalCalibration) -> Calibrator:
    return Calibrator.from_state(row.kind, row.model_version, row.alpha, row.state)


def _save(row: IntervalCalibration, calibrator: Calibrator, scale: float | None) -> None:
    row.alpha = calibrator.alpha
    row.state = calibrator.to_state()
    row.scale = scale
    row.n_days = len(calibrator.days)
    last = calibrator.last_target
    row.last_target_date = dt.date.fromisoformat(last) if last else None
    row.save()


def _serve_kind(kind: str, version: str, data_day: str) -> Served:
    row = IntervalCalibration.objects.select_for_update().filter(kind=kind).first()
    if row is None or row.model_version != version:
        # A new model version: its errors are not the old one's, so adaptation restarts.
        if row is not None:
            log.info("interval calibration of %s reset for version %s", kind, version)
            row.delete()
        row = _fresh(kind, version)
        row.save()
    try:
        calibrator = _read(row)
    except (ValueError, TypeError, KeyError) as exc:
        log.error("interval calibration of %s is corrupt (%s): offline calibration", kind, exc)
        return Served(None, f"corrupt state: {exc}")
    if data_day in calibrator.scales:  # a redelivered cycle serves what it served before
        used = calibrator.scales[data_day]
        return Served(None if used == 1.0 else used, "replayed day")
    scale = calibrator.scale()
    calibrator.remember_scale(data_day, 1.0 if scale is None else scale)
    _save(row, calibrator, scale)
    return Served(scale, "adaptive" if scale is not None else "warming up")


def served_for_cycle(versions: dict[str, str], data_date: dt.date) -> dict[str, Served]:
    """The scale of each kind's intervals for predictions from ``data_date``; any database
    error leaves that kind on the offline calibration (the cycle must not fail for it)."""
    if not getattr(settings, "INTERVAL_ADAPTATION", True):  # the replay's baseline run
        return {kind: Served(None, "adaptation off") for kind in versions}
    out: dict[str, Served] = {}
    for kind, version in versions.items():
        try:
            with transaction.atomic():
                out[kind] = _serve_kind(kind, version, data_date.isoformat())
        except Exception as exc:
            log.exception("interval calibration of %s unavailable", kind)
            out[kind] = Served(None, f"state unavailable: {exc}")
    return out


# The outcomes of one target day of one model version, with the day each forecast was made
# (the scale it was served with is remembered per data day). A plain cursor: the ORM turned
# each of ~5,000 rows' timestamps into an aware datetime, ~30 ms of every cycle.
_DAY_SCORES_SQL = f"""
SELECT to_char(data_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD'), realised_return, p10, p50, p90
FROM {PredictionRecord._meta.db_table}
WHERE model_type = %s AND model_version = %s
  AND target_date = %s  -- the only day this update may read: no later outcome
  AND realised_return IS NOT NULL AND p10 IS NOT NULL AND p90 IS NOT NULL
"""


def _day_scores(row: IntervalCalibration, calibrator: Calibrator, target: dt.date) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(_DAY_SCORES_SQL, [MODEL_TYPE_OF_KIND[row.kind], row.model_version, target])
        rows = cursor.fetchall()
    if not rows:
        return None
    days, *numbers = zip(*rows, strict=True)
    y, q = np.array(numbers[0], np.float64), np.array(numbers[1:], np.float64).T
    scale_of = {day: calibrator.scales.get(day, 1.0) for day in set(days)}
    used = np.array([scale_of[day] for day in days], np.float64)
    served = scores(y, q)
    return served * used, float(np.mean(served > 1.0))


def update_after_realise(target: dt.date) -> int:
    """Fold the outcomes of target day ``target`` into every kind's state; returns the number
    of outcomes used. Idempotent: a day already folded in is skipped."""
    used = 0
    for row in IntervalCalibration.objects.all():
        try:
            calibrator = _read(row)
        except (ValueError, TypeError, KeyError):
            continue  # corrupt: left for the operator, health() reports it
        if calibrator.last_target and target.isoformat() <= calibrator.last_target:
            continue
        found = _day_scores(row, calibrator, target)
        if found is None:
            continue
        raw, miss = found
        calibrator.update(target.isoformat(), raw, miss)
        _save(row, calibrator, row.scale)
        used += len(raw)
    return used


def health() -> dict[str, Any]:
    """Per active kind: ``mode`` "adaptive", "warming_up" or "offline_fallback" (with why)."""
    active = dict(
        ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("kind", "version")
    )
    rows = {row.kind: row for row in IntervalCalibration.objects.filter(kind__in=list(active))}
    kinds: dict[str, Any] = {}
    for kind, version in sorted(active.items()):
        row = rows.get(kind)
        if row is None or row.model_version != version:
            kinds[kind] = {"mode": "offline_fallback", "reason": "no state for the active version"}
            continue
        try:
            scale = _read(row).scale()
        except (ValueError, TypeError, KeyError) as exc:
            kinds[kind] = {"mode": "offline_fallback", "reason": f"corrupt state: {exc}"}
            continue
        mode = "adaptive" if scale is not None else "warming_up"
        serving = "adapted" if scale is not None else "offline"
        kinds[kind] = {"mode": mode, "serving": serving, "scale": scale, "alpha": row.alpha}
    fallback = any(k["mode"] == "offline_fallback" for k in kinds.values())
    return {"offline_fallback": fallback, "kinds": kinds}
