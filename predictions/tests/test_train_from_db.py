"""Training from the daily PriceBars (TRAINING_DATA_SOURCE=db): what the weekly retrain uses when
live data arrives through ingestion instead of the replay file."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from predictions.ml import artifacts
from predictions.models import ModelVersion
from predictions.tests.price_slices import write_slice

pytestmark = pytest.mark.django_db


def store_bars(path) -> int:
    from ingestion.models import PriceBar, Symbol

    frame = pd.read_csv(path)
    symbols = {t: Symbol.objects.get_or_create(ticker=t)[0] for t in frame["symbol"].unique()}
    bars = [
        PriceBar(
            symbol=symbols[r.symbol],
            timestamp=dt.datetime.combine(dt.date.fromisoformat(r.date), dt.time(), dt.UTC),
            interval="1d",
            open=r.open,
            high=r.high,
            low=r.low,
            close=r.close,
            volume=r.volume,
            source="test",
        )
        for r in frame.itertuples()
    ]
    PriceBar.objects.bulk_create(bars, batch_size=5000)
    return len(bars)


def test_it_trains_from_the_database_with_a_fingerprint_of_the_data(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    settings.TRAINING_DATA_SOURCE = "db"
    path = write_slice(tmp_path, symbols=("AAPL", "MSFT", "KO", "XOM", "JPM", "PG"))
    assert store_bars(path) > 10_000
    out = StringIO()
    call_command("train", "--model", "normal", "--epochs", "1", stdout=out)
    result = json.loads(out.getvalue())
    mv = ModelVersion.objects.get(kind="normal", version=result["version"])
    meta = artifacts.read_metadata(mv.artifact_path)
    assert meta["prices_file"] == "db"
    assert meta["rows"]["dataset"]["symbols"] == 6
    assert meta["training_window"]["until"] == "2025-07-09"
    assert len(meta["prices_sha256"]) == 64
    assert result["metrics"]["test"]["n"] > 3000
