"""The dashboard's market overview: largest predicted moves, earnings today, data freshness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from features.store import earnings_flagged
from ingestion.live import replay_date
from ingestion.models import AssetType
from predictions.latest import ROW_FIELDS, LatestPrediction, is_stale, stale_cutoff
from predictions.models import ModelType, Prediction

MOVERS = 5


@dataclass
class Freshness:
    symbols: int = 0
    stale: int = 0
    latest_predicted_at: dt.datetime | None = None
    latest_data_date: dt.date | None = None
    replay_date: str | None = None
    age_seconds: float | None = None

    @property
    def is_stale(self) -> bool:
        return is_stale(self.latest_predicted_at)


@dataclass
class MarketOverview:
    up: list[LatestPrediction] = field(default_factory=list)
    down: list[LatestPrediction] = field(default_factory=list)
    earnings: list[LatestPrediction] = field(default_factory=list)
    earnings_without_prediction: list[str] = field(default_factory=list)
    freshness: Freshness = field(default_factory=Freshness)


def _equities() -> QuerySet[Prediction]:
    return Prediction.objects.exclude(symbol__asset_type=AssetType.INDEX)


def _records(rows: QuerySet[Prediction]) -> list[LatestPrediction]:
    return [LatestPrediction.from_row(row) for row in rows.values(*ROW_FIELDS)]


def market_overview(limit: int = MOVERS) -> MarketOverview:
    rows = _equities()
    up = _records(rows.order_by("-predicted_return_1d")[:limit])
    down = _records(rows.order_by("predicted_return_1d")[:limit])
    # A symbol may sit in both lists when fewer than 2*limit symbols are predicted; show each
    # move once, on its own side.
    up = [p for p in up if p.predicted_return_1d > 0]
    down = [p for p in down if p.predicted_return_1d < 0]

    # Earnings today: routed to the earnings-day model, or flagged by the feature engine for a
    # symbol the pipeline has not predicted yet.
    flagged = earnings_flagged()
    earnings_rows = rows.filter(
        Q(model_type=ModelType.EARNINGS_DAY) | Q(symbol__ticker__in=flagged)
    ).order_by("symbol__ticker")
    earnings = _records(earnings_rows)
    predicted = {p.symbol for p in earnings}

    stale_before = stale_cutoff()
    stats = rows.aggregate(
        n=Count("pk"),
        stale=Count("pk", filter=Q(predicted_at__lt=stale_before)),
        latest=Max("predicted_at"),
        data=Max("data_timestamp"),
    )
    latest = stats["latest"]
    freshness = Freshness(
        symbols=stats["n"],
        stale=stats["stale"],
        latest_predicted_at=latest,
        latest_data_date=stats["data"].date() if stats["data"] else None,
        replay_date=replay_date(),
        age_seconds=(timezone.now() - latest).total_seconds() if latest else None,
    )
    return MarketOverview(
        up=up,
        down=down,
        earnings=earnings,
        earnings_without_prediction=sorted(flagged - predicted),
        freshness=freshness,
    )
