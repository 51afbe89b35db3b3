"""Test and benchmark helpers: symbols, contract-conforming models, and cycle inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import redis
from redis.typing import EncodableT

from core.enums import KIND_OF_HORIZON
from features.definitions import ALL_FEATURES, EARNINGS_FEATURES, TECHNICAL_FEATURES
from features.store import features_key
from ingestion.models import PriceBar, Symbol
from predictions.models import ModelVersion, PredictionRecord
from predictions.pipeline import toy_model
from predictions.pipeline.cycle import CycleInput
from predictions.pipeline.days import day_timestamp


def make_symbols(tickers: list[str]) -> dict[str, int]:
    Symbol.objects.bulk_create(
        [Symbol(ticker=t, name=f"{t} Inc.", exchange="NYSE") for t in tickers],
        ignore_conflicts=True,
    )
    return dict(Symbol.objects.filter(ticker__in=tickers).values_list("ticker", "id"))


def store_bars(ids: dict[str, int], tickers: list[str], day: dt.date, closes: np.ndarray) -> None:
    """One flat daily bar (open = high = low = close) per ticker of ``day``."""
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol_id=ids[t], timestamp=day_timestamp(day), open=c, high=c, low=c, close=c,
            volume=1e6, source="test",
        )
        for t, c in zip(tickers, closes.tolist(), strict=True)
    )  # fmt: skip


def store_records(ids: dict[str, int], day: dt.date, target: dt.date) -> None:
    """One unrealised one-day record per symbol id, made on ``day`` for ``target`` (price 100,
    interval -2 % .. +2 %, small forecasts that differ by symbol)."""
    stamp = day_timestamp(day)
    PredictionRecord.objects.bulk_create(
        PredictionRecord(
            symbol_id=i, data_timestamp=stamp, target_date=target, model_type="normal_day",
            model_version="v1", current_price=100.0, predicted_return_1d=0.001 * (i % 7),
            predicted_price=100.1, p10=-0.02, p50=0.0, p90=0.02, predicted_at=stamp,
        )
        for i in ids.values()
    )  # fmt: skip


def install_models(
    root: Path, version: str = "v1", seed: int = 0, *, horizons: bool = False
) -> dict[str, ModelVersion]:
    """An active toy model per kind: normal reads the 20 technical features, earnings the first 37;
    with ``horizons`` also the 5- and 20-day kinds (technical features, versions ``<v>-5d``...)."""
    models = {
        "normal": toy_model.install(root, "normal", version, list(TECHNICAL_FEATURES), seed=seed),
        "earnings": toy_model.install(
            root, "earnings", version, [*TECHNICAL_FEATURES, *EARNINGS_FEATURES], seed=seed
        ),
    }
    if horizons:
        for h, kind in KIND_OF_HORIZON.items():
            models[kind] = toy_model.install(
                root, kind, f"{version}-{h}d", list(TECHNICAL_FEATURES), seed=seed + h
            )
    return models


def cycle_input(
    data_date: dt.date, tickers: list[str], *, seed: int = 0, nan_share: float = 0.05
) -> CycleInput:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(len(tickers), len(ALL_FEATURES))).astype(np.float32)
    X[rng.random(X.shape) < nan_share] = np.nan  # missing values travel as NaN
    return CycleInput(
        data_date=data_date,
        tickers=np.array(tickers, dtype=str),
        X=X,
        feature_names=list(ALL_FEATURES),
        close=rng.uniform(5, 500, size=len(tickers)),
    )


def write_features(client: redis.Redis, inp: CycleInput) -> None:
    """Store ``inp`` the way the features worker does (contract: ``features:{SYMBOL}`` hash with
    the feature values, missing ones as "nan", plus ``data_timestamp`` and ``close``)."""
    stamp = f"{inp.data_date.isoformat()}T00:00:00Z"
    pipe = client.pipeline(transaction=False)
    for i, ticker in enumerate(inp.tickers.tolist()):
        mapping: dict[EncodableT, EncodableT] = {
            name: repr(float(v))
            for name, v in zip(inp.feature_names, inp.X[i].tolist(), strict=True)
        }
        mapping["data_timestamp"] = stamp
        mapping["close"] = repr(float(inp.close[i]))
        pipe.hset(features_key(ticker), mapping=mapping)
        pipe.expire(features_key(ticker), 300)
    pipe.execute()
