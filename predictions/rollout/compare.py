"""Two versions of one model kind compared on their realised LIVE forecasts of the same
(symbol, target day) pairs (issue 22): MAE, rank IC, p10-p90 coverage, n and days.

A version's live forecasts are its served records (``PredictionRecord``) and its unserved
ones (``ShadowRecord``) together: in the shadow stage the candidate's are all shadow, in the
canary stage each version is served for some symbols and shadowed for the others, after a
promotion the previous version is shadowed. Joining on (symbol, target day) keeps only the
pairs both versions forecast, so the two figures are of the same days and symbols."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection

from core.enums import TYPE_OF_KIND

MIN_IC_SYMBOLS = 5

_VERSION_ROWS = """
    SELECT symbol_id, target_date, predicted_return_1d AS p, realised_return AS y, abs_error,
           inside_interval
    FROM {table}
    WHERE model_type = %(type)s AND model_version = %({version})s
      AND realised_return IS NOT NULL AND predicted_at >= %(since_at)s
      AND data_timestamp >= %(since_ts)s
"""

_COMPARE_SQL = f"""
WITH c AS (
    {_VERSION_ROWS.format(table="predictions_predictionrecord", version="candidate")}
    UNION ALL
    {_VERSION_ROWS.format(table="predictions_shadowrecord", version="candidate")}
), o AS (
    {_VERSION_ROWS.format(table="predictions_predictionrecord", version="other")}
    UNION ALL
    {_VERSION_ROWS.format(table="predictions_shadowrecord", version="other")}
), j AS (
    SELECT c.target_date, c.y, c.p AS cp, o.p AS op, c.abs_error AS ce, o.abs_error AS oe,
           c.inside_interval::int AS ci, o.inside_interval::int AS oi
    FROM c JOIN o ON o.symbol_id = c.symbol_id AND o.target_date = c.target_date
), r AS (
    SELECT target_date,
           rank() OVER (PARTITION BY target_date ORDER BY cp) AS rc,
           rank() OVER (PARTITION BY target_date ORDER BY op) AS ro,
           rank() OVER (PARTITION BY target_date ORDER BY y) AS ry
    FROM j
), d AS (
    SELECT target_date, count(*) AS n, corr(rc::float8, ry::float8) AS icc,
           corr(ro::float8, ry::float8) AS ico
    FROM r GROUP BY target_date
)
SELECT (SELECT count(*) FROM j), (SELECT count(DISTINCT target_date) FROM j),
       (SELECT avg(ce) FROM j), (SELECT avg(oe) FROM j),
       (SELECT avg(ci) FROM j), (SELECT avg(oi) FROM j),
       (SELECT avg(icc) FROM d WHERE n >= %(min_ic)s),
       (SELECT avg(ico) FROM d WHERE n >= %(min_ic)s),
       (SELECT min(target_date) FROM j), (SELECT max(target_date) FROM j)
"""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Comparison:
    """The candidate's figures and the other version's on the same realised pairs."""

    n: int
    days: int
    mae: float | None
    mae_other: float | None
    rank_ic: float | None
    rank_ic_other: float | None
    coverage: float | None
    coverage_other: float | None
    first_day: str | None
    last_day: str | None

    @property
    def mae_ratio(self) -> float | None:
        if self.mae is None or not self.mae_other:
            return None
        return self.mae / self.mae_other

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        ratio = self.mae_ratio
        out["mae_ratio"] = None if ratio is None else round(ratio, 4)
        return out


def _r(value: Any, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def compare(
    kind: str,
    candidate: str,
    other: str,
    *,
    since_at: dt.datetime | None = None,
    since_day: dt.date | None = None,
) -> Comparison:
    """``candidate`` vs ``other`` (versions of ``kind``) on the pairs predicted at or after
    ``since_at`` (wall time) from data days on or after ``since_day``."""
    since_ts = dt.datetime.combine(since_day, dt.time(), tzinfo=dt.UTC) if since_day else EPOCH
    params: dict[str, Any] = {
        "type": TYPE_OF_KIND[kind],
        "candidate": candidate,
        "other": other,
        "since_at": since_at or EPOCH,
        "since_ts": since_ts,
        "min_ic": MIN_IC_SYMBOLS,
    }
    with connection.cursor() as cursor:
        cursor.execute(_COMPARE_SQL, params)
        row = cursor.fetchone()
    if row is None:  # one row of scalar subqueries, always
        raise RuntimeError("the rollout comparison returned no row")
    n, days, mae, mae_o, cov, cov_o, ic, ic_o, first, last = row
    return Comparison(
        n=int(n),
        days=int(days),
        mae=_r(mae),
        mae_other=_r(mae_o),
        rank_ic=_r(ic, 4),
        rank_ic_other=_r(ic_o, 4),
        coverage=_r(cov, 4),
        coverage_other=_r(cov_o, 4),
        first_day=first.isoformat() if first else None,
        last_day=last.isoformat() if last else None,
    )
