"""``GET /api/prediction/{symbol}/review?date=``: the post-mortem of a realised prediction from
real rows (price bars of the symbol and the S&P 500, the prediction record, the earnings event,
a quarantined bar), with beta recomputed here independently."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from rest_framework.test import APIClient

from ingestion.calendar import trading_days

DAY = dt.date(2024, 7, 9)  # the target day of the prediction
DATA_DAY = dt.date(2024, 7, 8)


def _bars(ticker: str, closes: dict[dt.date, float]) -> None:
    from ingestion.models import PriceBar, Symbol

    sym, _ = Symbol.objects.get_or_create(ticker=ticker)
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol=sym,
            timestamp=dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC),
            interval="1d",
            open=c,
            high=c,
            low=c,
            close=c,
            volume=1e6,
            source="test",
        )
        for d, c in closes.items()
    )


@pytest.fixture
def history(db):
    """200 trading days of a stock that moves 1.5 x the market plus noise; on DAY the market
    falls 2% and the stock 5% after an earnings release with a 10% EPS miss."""
    from ingestion.models import EarningsEvent, QuarantinedBar, Symbol
    from predictions.models import PredictionRecord

    days = trading_days(DAY - dt.timedelta(days=300), DAY)
    rng = np.random.default_rng(3)
    market_r = rng.normal(0, 0.01, len(days))
    market_r[-1] = -0.02
    stock_r = 1.5 * market_r + rng.normal(0, 0.004, len(days))
    stock_r[-1] = -0.05
    market = dict(zip(days, 5000 * np.cumprod(1 + market_r), strict=True))
    stock = dict(zip(days, 100 * np.cumprod(1 + stock_r), strict=True))
    _bars("^GSPC", market)
    _bars("ACME", stock)
    sym = Symbol.objects.get(ticker="ACME")
    EarningsEvent.objects.create(
        symbol=sym, date=DATA_DAY, reaction_date=DAY, eps_estimate=1.00, eps_actual=0.90,
        source="test",
    )  # fmt: skip
    QuarantinedBar.objects.create(
        ticker="ACME", symbol=sym, timestamp=dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
        source="test", reason="jump_reverted", detail="bad tick", fingerprint="x" * 40,
    )  # fmt: skip
    PredictionRecord.objects.create(
        symbol=sym, data_timestamp=dt.datetime(2024, 7, 8, tzinfo=dt.UTC), target_date=DAY,
        model_type="earnings_day", model_version="e-test", current_price=stock[DATA_DAY],
        predicted_return_1d=0.004, predicted_price=stock[DATA_DAY] * 1.004, p10=-0.03, p50=0.004,
        p90=0.035, predicted_at=dt.datetime(2024, 7, 8, 21, tzinfo=dt.UTC),
    )  # fmt: skip
    window = slice(-121, -1)  # the 120 daily returns up to DATA_DAY
    beta = np.polyfit(market_r[1:][window], stock_r[1:][window], 1)[0]
    return {"beta": beta}


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_reviews_a_missed_earnings_day(history, users):
    response = _client(users[0]).get("/api/prediction/acme/review?date=2024-07-09")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["realised_return"] == pytest.approx(-0.05, abs=1e-9)
    assert body["inside_interval"] is False  # -5% is below the p10 of -3%
    assert body["market_return"] == pytest.approx(-0.02, abs=1e-9)
    assert body["beta"] == pytest.approx(history["beta"], rel=0.02)
    assert body["market_explained_return"] == pytest.approx(history["beta"] * -0.02, rel=0.02)
    assert body["earnings"]["eps_surprise_pct"] == pytest.approx(-0.10)
    assert body["inputs_flagged"] is True and body["flags"] == ["2024-07-01: jump_reverted"]
    assert "outside the 80% interval" in body["text"] and "EPS surprise -10.00%" in body["text"]
    assert body["grounding"]["passed"], body["grounding"]


def test_it_answers_in_the_api_error_shape(history, users):
    client = _client(users[0])
    missing = client.get("/api/prediction/ACME/review?date=2024-07-05")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = client.get("/api/prediction/ACME/review?date=July")
    assert bad.status_code == 400 and "error" in bad.json()
    unknown = client.get("/api/prediction/ZZZZ/review?date=2024-07-09")
    assert unknown.status_code == 404
    assert APIClient().get("/api/prediction/ACME/review?date=2024-07-09").status_code == 401


def test_it_is_in_the_openapi_schema(db):
    schema = APIClient().get("/api/schema?format=json").content.decode()
    assert "/api/prediction/{symbol}/review" in schema and "prediction_review" in schema


def test_it_is_linked_from_the_symbol_page_history(history, users):
    from django.test import Client

    from predictions.models import PredictionRecord

    PredictionRecord.objects.update(realised_return=-0.05, inside_interval=False, abs_error=0.054)
    client = Client()
    client.force_login(users[0])
    page = client.get("/symbol/ACME").content.decode()
    assert 'href="/api/prediction/ACME/review?date=2024-07-09"' in page
    assert 'action="/api/prediction/ACME/review"' in page
