"""One real live cycle for the operations tests: synthetic daily bars for two symbols (history
ingested, then a replay file the clock steps through), toy contract models, and a real Celery
worker running ingest -> features -> inference -> dual write -> publish."""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from features import tasks as feature_tasks
from ingestion.calendar import trading_days
from ingestion.frames import read_price_csv
from ingestion.pipeline import ingest_frame
from ingestion.storage import forget_symbol_cache
from predictions.benchmarks.universe import install_models
from predictions.models import Prediction
from predictions.pipeline import runtime

TICKERS = ["AAA", "BBB"]
FIRST_LIVE_DAY = dt.date(2024, 7, 10)
_STAMP = dt.datetime(2024, 7, 10, tzinfo=dt.UTC)


def synthetic_prices(path: Path, start: dt.date, end: dt.date, seed: int = 7) -> Path:
    """A gentle random walk per symbol in the shared price format."""
    rng = np.random.default_rng(seed)
    days = trading_days(start, end)
    rows = []
    for ticker in TICKERS:
        close = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
        for d, c in zip(days, close, strict=True):
            rows.append((ticker, "NYSE", d.isoformat(), c * 0.995, c * 1.01, c * 0.99, c, 1e6))
    frame = pd.DataFrame(
        rows, columns=["symbol", "exchange", "date", "open", "high", "low", "close", "volume"]
    )
    frame.to_csv(path, index=False)
    return path


def prepare(tmp_path: Path, settings) -> None:
    """History before FIRST_LIVE_DAY in the database, the replay clock set to start there,
    active toy models. Per-process caches of an earlier test (symbol ids, feature engines) are
    dropped: the rows they point at were flushed."""
    forget_symbol_cache()
    feature_tasks._ENGINES.clear()
    prices = synthetic_prices(tmp_path / "prices.csv", dt.date(2023, 1, 3), dt.date(2024, 7, 31))
    history = read_price_csv(prices, end=FIRST_LIVE_DAY - dt.timedelta(days=1))
    ingest_frame(history, provider="replay", mode="backfill")
    settings.REPLAY_PRICES_FILE = prices
    settings.REPLAY_START_DATE = FIRST_LIVE_DAY.isoformat()
    settings.MARKET_DATA_PROVIDER = "replay"
    runtime.clear_cache()
    install_models(tmp_path / "models")


def run_live_cycle(timeout: float = 300.0) -> None:
    """Send one live cycle and wait for its predictions (the chain runs on the worker)."""
    from config.celery_app import app

    before = Prediction.objects.filter(data_timestamp=_STAMP).count()
    assert before == 0
    app.send_task("ingestion.tasks.live_cycle", queue="ingest", ignore_result=False).get(
        timeout=timeout
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Prediction.objects.filter(data_timestamp=_STAMP).count() == len(TICKERS):
            return
        time.sleep(0.2)
    raise AssertionError("the live cycle produced no predictions in time")


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by (name, sorted labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    return float(found.get((name, tuple(sorted(labels.items()))), 0.0))


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())
