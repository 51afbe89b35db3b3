"""Where backtested forecasts come from: the platform's stored history or walk-forward files.

Both give the rows ``decisions.backtest`` needs: symbol, ``date`` (the day whose close the
forecast was made from), ``trade_date`` (the trading day it is for), p10/p50/p90 and the
return realised on ``trade_date``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import Query

from core.enums import ONE_DAY_TYPES
from decisions.backtest import BacktestError

WALKFORWARD_COLUMNS = ["symbol", "date", "p10", "p50", "p90", "realised"]


class SourceName(StrEnum):
    RECORDS = "records"
    WALKFORWARD = "walkforward"


class SourceMissing(BacktestError):
    """The requested source has nothing to backtest."""


def walkforward_files(model: str) -> list[Path]:
    """Candidate files written by ``python manage.py walkforward`` (branch wf), preferred first."""
    base = Path(settings.VAR_DIR) / "walkforward" / model
    return [base / "predictions.parquet", base / "predictions.csv.gz"]


def _rows_on(side: BaseDatabaseWrapper, query: Query) -> list[tuple[Any, ...]]:
    """``query`` (compiled as for the platform's database: same server and schema) run on
    ``side``."""
    sql_text, params = query.sql_with_params()
    try:
        with side.cursor() as cursor:
            cursor.execute(sql_text, params)
            return list(cursor.fetchall())
    except DatabaseError as exc:  # a database that does not exist or was never migrated
        name = side.settings_dict["NAME"]
        message = f"cannot read stored predictions from database {name!r}: {exc}"
        raise SourceMissing(message) from exc


def next_sessions(dates: pd.Series) -> pd.Series:
    """The trading day after each date (the day a forecast made after its close is for)."""
    from ingestion.calendar import sessions

    days = sessions()
    raw = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    index = np.searchsorted(days, raw, side="right")
    if (index >= len(days)).any():
        raise BacktestError("forecast dates beyond the trading calendar")
    return pd.Series(pd.to_datetime(days[index]), index=dates.index)


def read_walkforward(model: str = "normal", path: Path | None = None) -> pd.DataFrame:
    """The walk-forward predictions of ``model`` with their trading days. Each row's ``date``
    is day t of the features, ``realised`` the return of t's next session."""
    found = [path] if path else [p for p in walkforward_files(model) if p.exists()]
    if not found or not found[0].exists():
        tried = ", ".join(str(p) for p in ([path] if path else walkforward_files(model)))
        raise SourceMissing(
            f"no walk-forward predictions for model {model!r} (looked for {tried}); make them "
            f"with `python manage.py walkforward --model {model}` first"
        )
    file = found[0]
    if file.suffix == ".parquet":
        frame = pd.read_parquet(file, columns=WALKFORWARD_COLUMNS)
    else:
        frame = pd.read_csv(file, usecols=WALKFORWARD_COLUMNS, dtype={"symbol": str})
    if not pd.api.types.is_datetime64_any_dtype(frame["date"]):
        # ISO dates: the explicit format takes pandas' fast path (seconds saved on 2 M rows).
        frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    frame["trade_date"] = next_sessions(frame["date"])
    return frame


def read_records(
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    side: BaseDatabaseWrapper | None = None,
) -> pd.DataFrame:
    """The stored ``PredictionRecord`` history whose outcome is known (any model version), from
    the platform's database or from ``side`` (another database of the server)."""
    from predictions.models import PredictionRecord

    query = PredictionRecord.objects.filter(
        realised_return__isnull=False, target_date__isnull=False, model_type__in=ONE_DAY_TYPES
    )
    if start:
        query = query.filter(target_date__gte=start)
    if end:
        query = query.filter(target_date__lte=end)
    fields = ("symbol__ticker", "data_timestamp", "target_date", "p10", "p50", "p90")
    values = query.values_list(*fields, "realised_return", "predicted_return_1d")
    rows = list(values) if side is None else _rows_on(side, values.query)
    if not rows:
        raise SourceMissing(
            "no stored predictions with a known outcome in range: the platform has not "
            "predicted and scored any day yet (run it, or use --source walkforward)"
        )
    columns = ["symbol", "date", "trade_date", "p10", "p50", "p90", "realised", "point"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"], utc=True).dt.tz_localize(None).dt.normalize()
    # Older records may lack quantiles: the point forecast is then the median.
    frame["p50"] = frame["p50"].fillna(frame["point"])
    return frame.drop(columns=["point"])
