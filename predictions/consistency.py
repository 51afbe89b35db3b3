"""The hourly consistency job of architecture section 12.3: Redis vs PostgreSQL.

PostgreSQL's ``Prediction`` rows are the truth; each symbol's Redis copy is
- ``matched``: the same record;
- ``missing``: absent or unreadable (its TTL ran out: normal between daily cycles);
- ``mismatched``: present but different (e.g. a failed Redis write left an older prediction);
- ``ahead``: newer than PostgreSQL - a cycle whose Redis write landed before its PostgreSQL
  commit. Left alone: "repairing" it would put an older prediction back.
PostgreSQL is read BEFORE Redis, so a cycle committing in between shows up as ``ahead``, never as
a false mismatch. Missing and mismatched entries are rewritten from PostgreSQL with a
compare-and-set (only if the key still holds what was read), so a cycle writing during the
repair always wins. The share ``mismatched / checked`` is exported
(``stockpred_consistency_mismatch_ratio``, alert above 1%) and each run is recorded
(``ConsistencyRun``, in the admin).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import redis
from django.utils import timezone

from core import metrics
from predictions import cache
from predictions.latest import ROW_FIELDS, LatestPrediction
from predictions.models import ConsistencyRun, Prediction

CHUNK = 1000
MAX_EXAMPLES = 20
_TIMESTAMPS = ("predicted_at", "data_timestamp")
# SET the key only when it still holds the value read (ARGV[1]; "" = absent).
_CAS_LUA = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


@dataclass
class Outcome:
    checked: int = 0
    matched: int = 0
    missing: int = 0
    mismatched: int = 0
    ahead: int = 0
    repaired: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mismatch_ratio(self) -> float:
        return self.mismatched / self.checked if self.checked else 0.0


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def differing_fields(truth: dict[str, Any], cached: dict[str, Any]) -> list[str]:
    """Fields of the contract record whose cached value differs from PostgreSQL's."""
    out = []
    for name in (*cache.RECORD_FIELDS, *cache.OPTIONAL_FIELDS):
        a, b = truth.get(name), cached.get(name)
        if name in _TIMESTAMPS:
            same = _parse_time(a) == _parse_time(b)
        elif isinstance(a, float) or isinstance(b, float):
            same = (
                a is not None
                and b is not None
                and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
            )
        else:
            same = a == b
        if not same:
            out.append(name)
    return out


def classify(truth: dict[str, Any], raw: bytes | str | None) -> tuple[str, list[str]]:
    """(state, differing fields) of one symbol's Redis value against its PostgreSQL record."""
    cached = cache.decode(truth["symbol"], raw)
    if cached is None:
        return ("missing" if raw is None else "mismatched"), ["unreadable"] if raw else []
    differ = differing_fields(truth, cached)
    if not differ:
        return "matched", []
    cached_at = _parse_time(cached.get("predicted_at"))
    truth_at = _parse_time(truth["predicted_at"])
    if cached_at is not None and truth_at is not None and cached_at > truth_at:
        return "ahead", differ
    return "mismatched", differ


def _check_chunk(client: redis.Redis, truths: list[dict[str, Any]], outcome: Outcome) -> None:
    keys = [cache.pred_key(t["symbol"]) for t in truths]
    raws = client.mget(keys)
    repairs: list[tuple[str, bytes | str | None, dict[str, Any]]] = []
    for truth, key, raw in zip(truths, keys, raws, strict=True):
        state, differ = classify(truth, raw)
        setattr(outcome, state, getattr(outcome, state) + 1)
        if state == "mismatched" and len(outcome.examples) < MAX_EXAMPLES:
            outcome.examples.append({"symbol": truth["symbol"], "fields": differ})
        if state in ("missing", "mismatched"):
            repairs.append((key, raw, truth))
    if repairs:
        cas = client.register_script(_CAS_LUA)
        pipe = client.pipeline(transaction=False)
        for key, raw, truth in repairs:
            cas(keys=[key], args=[raw or b"", json.dumps(truth), cache.TTL_SECONDS], client=pipe)
        outcome.repaired += sum(int(r) for r in pipe.execute())


def check_and_repair(client: redis.Redis) -> Outcome:
    """Compare every PostgreSQL prediction with Redis and repair Redis (see module doc)."""
    outcome = Outcome()
    rows = Prediction.objects.order_by("symbol__ticker").values(*ROW_FIELDS)
    truths = [LatestPrediction.from_row(row).to_json() for row in rows]
    outcome.checked = len(truths)
    for start in range(0, len(truths), CHUNK):
        _check_chunk(client, truths[start : start + CHUNK], outcome)
    return outcome


def run(client: redis.Redis) -> ConsistencyRun:
    """One recorded, exported run (a Redis outage is recorded as the run's error)."""
    started = timezone.now()
    try:
        outcome, error = check_and_repair(client), ""
    except redis.RedisError as exc:
        outcome, error = Outcome(), f"Redis unavailable: {exc}"
    if not error:
        metrics.CONSISTENCY_MISMATCH_RATIO.set(outcome.mismatch_ratio)
        metrics.CONSISTENCY_REPAIRED.inc(outcome.repaired)
    return ConsistencyRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        checked=outcome.checked,
        matched=outcome.matched,
        missing=outcome.missing,
        mismatched=outcome.mismatched,
        ahead=outcome.ahead,
        repaired=outcome.repaired,
        mismatch_ratio=round(outcome.mismatch_ratio, 6),
        examples=outcome.examples,
        error=error,
    )
