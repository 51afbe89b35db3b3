"""The day loop of ``replay_eval`` (``predictions.replay``), inside the scratch database."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import redis
from django.db import connection
from django.test import override_settings

from predictions.pipeline.cycle import CycleInput
from predictions.replay_metrics import ood_summary, summarize

SCRATCH_TABLES = (
    "predictions_predictionrecord",
    "predictions_prediction",
    "predictions_intervalcalibration",
    "predictions_pipelinerun",
)


def day_frame(panel: Any, col: int) -> pd.DataFrame:
    """One panel column as the frame ``ingestion.pipeline.ingest_frame`` validates and stores."""
    close = panel.close[:, col]
    ok = np.isfinite(close)
    day = np.datetime64(panel.dates[col], "s")
    return pd.DataFrame(
        {
            "symbol": panel.tickers[ok].astype(object),
            "exchange": np.full(int(ok.sum()), "", dtype=object),
            "date": np.full(int(ok.sum()), day),
            **{f: getattr(panel, f)[ok, col] for f in ("open", "high", "low", "close", "volume")},
        }
    )


@dataclass
class PassResult:
    frame: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)


class Replayer:
    def __init__(
        self, panel: Any, models: dict[str, dict[str, Any]], options: Any, client: redis.Redis
    ) -> None:
        self.panel, self.client, self.options = panel, client, options
        dates = panel.dates
        self.first = int(np.searchsorted(dates, np.datetime64(options.start, "D")))
        self.last = int(np.searchsorted(dates, np.datetime64(options.end, "D"), side="right")) - 1
        if self.first < 1 or self.last < self.first:
            raise SystemExit(f"no trading days with history in {options.start}..{options.end}")
        self.inputs: dict[int, CycleInput] = {}
        self._setup(models)

    def _setup(self, models: dict[str, dict[str, Any]]) -> None:
        from features.earnings import EarningsData
        from features.live import FeatureEngine
        from ingestion.pipeline import ingest_frame
        from ingestion.storage import ensure_symbols, forget_symbol_cache
        from predictions.models import ModelStatus, ModelVersion

        forget_symbol_cache()
        tickers = self.panel.tickers
        ids = ensure_symbols(tickers)
        earnings = EarningsData.from_csv(tickers)
        self._events(earnings, ids)
        for kind, info in models.items():
            ModelVersion.objects.create(kind=kind, status=ModelStatus.ACTIVE, **info)
        ingest_frame(day_frame(self.panel, self.first - 1), provider="replay", mode="backfill")
        self.engine = FeatureEngine(earnings)
        self.engine.full(self.panel.until(self.panel.dates[self.first - 1]))

    def _events(self, earnings: Any, ids: dict[str, int]) -> None:
        """The earnings calendar the router reads (as ``load_reference_data`` stores it)."""
        from ingestion.models import EarningsEvent

        events = earnings.events
        lo = self.panel.dates[self.first - 1]
        hi = self.panel.dates[self.last] + np.timedelta64(10, "D")
        events = events[(events["reaction_date"] >= lo) & (events["reaction_date"] <= hi)]
        EarningsEvent.objects.bulk_create(
            [
                EarningsEvent(
                    symbol_id=ids[row.ticker],
                    date=pd.Timestamp(row.date).date(),
                    reaction_date=pd.Timestamp(row.reaction_date).date(),
                    eps_estimate=None if np.isnan(row.eps_estimate) else row.eps_estimate,
                    source="replay_eval",
                )
                for row in events.itertuples()
                if row.ticker in ids
            ],
            ignore_conflicts=True,
        )

    def _input(self, col: int) -> CycleInput:
        """The day's features as the inference task reads them (first pass: ingest the bars,
        update the engine, hand the matrix off through Redis; later passes: the same input)."""
        found = self.inputs.get(col)
        if found is not None:
            return found
        from features import handoff
        from features.live import DayBars
        from ingestion.pipeline import ingest_frame
        from predictions.pipeline import sources

        day = pd.Timestamp(self.panel.dates[col]).date()
        ingest_frame(day_frame(self.panel, col), provider="replay", mode="live")
        fields = ("open", "high", "low", "close", "volume")
        bars = DayBars(
            date=day,
            tickers=self.panel.tickers,
            **{f: getattr(self.panel, f)[:, col] for f in fields},
        )
        handoff.write_matrix(self.client, self.engine.update(bars))
        inp = sources.from_redis(self.client, day, tickers=self.panel.tickers.tolist())
        self.inputs[col] = inp
        return inp

    def pass_(self, *, adapt: bool) -> PassResult:
        from predictions.pipeline import runtime
        from predictions.pipeline.cycle import run_cycle
        from predictions.replay import frame_of_records

        runtime.clear_cache()
        errors: set[str] = set()
        started = time.perf_counter()
        with override_settings(INTERVAL_ADAPTATION=adapt):
            for col in range(self.first, self.last + 1):
                inp = self._input(col)
                result, _ = run_cycle(inp, redis_client=self.client, publish=False, snapshots=False)
                errors.update(e.split(":")[0] for e in result.errors)
        seconds = time.perf_counter() - started
        frame = frame_of_records()
        per_kind = {
            str(kind): summarize(part.drop(columns=["model_type", "ood_flagged"]))
            for kind, part in frame.groupby("model_type")
        }
        days = self.last - self.first + 1
        extra = {
            "per_model_type": per_kind,
            "ood": ood_summary(frame),
            "cycles": days,
            "cycle_s_mean": round(seconds / days, 3),
            "cycle_errors": sorted(errors)[:10],
        }
        return PassResult(frame, extra)

    def reset(self) -> None:
        """Empty what a pass wrote (the scratch tables, the private Redis), keep the bars."""
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(SCRATCH_TABLES)}")
        self.client.flushdb()


def trading_day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)
