"""The dashboard's market overview: largest predicted moves, earnings today, data freshness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from ingestion.models import AssetType
from predictions.models import ModelType, Prediction
from web import live_store
from web.snapshots import PredictionSnapshot

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
        return self.age_seconds is None or self.age_seconds > settings.PREDICTION_STALE_SECONDS


@dataclass
class MarketOverview:
    up: list[PredictionSnapshot] = field(default_factory=list)
    down: list[PredictionSnapshot] = field(default_factory=list)
    earnings: list[PredictionSnapshot] = field(default_factory=list)
    earnings_without_prediction: list[str] = field(default_factory=list)
    freshness: Freshness = field(default_factory=Freshness)


def _equities():
    return Prediction.objects.select_related("symbol").exclude(symbol__asset_type=AssetType.INDEX)


def market_overview(limit: int = MOVERS) -> MarketOverview:
    rows = _equities()
    up = [PredictionSnapshot.from_model(p) for p in rows.order_by("-predicted_return_1d")[:limit]]
    down = [PredictionSnapshot.from_model(p) for p in rows.order_by("predicted_return_1d")[:limit]]
    # A symbol may sit in both lists when fewer than 2*limit symbols are predicted; show each
    # move once, on its own side.
    up = [p for p in up if p.predicted_return_1d > 0]
    down = [p for p in down if p.predicted_return_1d < 0]

    # Earnings today: routed to the earnings-day model, or flagged by the feature engine for a
    # symbol the pipeline has not predicted yet.
    flagged = live_store.earnings_flagged()
    earnings_rows = rows.filter(
        Q(model_type=ModelType.EARNINGS_DAY) | Q(symbol__ticker__in=flagged)
    ).order_by("symbol__ticker")
    earnings = [PredictionSnapshot.from_model(p) for p in earnings_rows]
    predicted = {p.symbol for p in earnings}

    stale_before = timezone.now() - dt.timedelta(seconds=settings.PREDICTION_STALE_SECONDS)
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
        replay_date=live_store.replay_date(),
        age_seconds=(timezone.now() - latest).total_seconds() if latest else None,
    )
    return MarketOverview(
        up=up,
        down=down,
        earnings=earnings,
        earnings_without_prediction=sorted(flagged - predicted),
        freshness=freshness,
    )
