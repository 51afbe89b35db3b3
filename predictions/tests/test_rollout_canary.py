"""Canary rollout (issue 22): the candidate serves the symbols its ticker hash picks, the
active version the others; every served prediction names the version that made it, and each
version's forecast of the symbols it does not serve is shadowed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.models import Prediction, PredictionRecord, ShadowRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.rollout import stages
from predictions.rollout.split import in_canary
from predictions.tests.rollout_support import candidate

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2025, 7, 8)
TICKERS = [f"S{i:03d}" for i in range(200)]


@pytest.fixture
def canary(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path, horizons=True)
    for kind, version in (("normal", "c1"), ("horizon_20d", "c1-20d")):
        candidate(tmp_path, kind, version)
        stages.advance(stages.start(kind, version), reason="test", share=0.25)
    yield redis_client
    runtime.clear_cache()


def test_it_serves_the_hashed_share_with_the_candidate(canary):
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=canary)
    assert result.errors == []
    expected = {t for t, m in zip(TICKERS, in_canary(TICKERS, 0.25), strict=True) if m}
    assert 30 < len(expected) < 70
    served = dict(Prediction.objects.values_list("symbol__ticker", "model_version"))
    assert {t for t, v in served.items() if v == "c1"} == expected
    for ticker in TICKERS:
        cached = json.loads(canary.get(f"pred:{ticker}"))
        assert cached["model_version"] == ("c1" if ticker in expected else "v1")
        want = "c1-20d" if ticker in expected else "v1-20d"
        assert cached["horizons"]["20"]["model_version"] == want
        assert cached["horizons"]["5"]["model_version"] == "v1-5d"  # no rollout there
    records = PredictionRecord.objects.filter(model_type="normal_day", model_version="c1")
    assert set(records.values_list("symbol__ticker", flat=True)) == expected
    assert result.rollouts["normal"]["other_served"] == len(expected)


def test_it_shadows_each_version_where_the_other_serves(canary):
    run_cycle(cycle_input(DAY, TICKERS), redis_client=canary)
    expected = {t for t, m in zip(TICKERS, in_canary(TICKERS, 0.25), strict=True) if m}
    shadow = ShadowRecord.objects.filter(model_type="normal_day")
    assert set(shadow.filter(model_version="v1").values_list("symbol__ticker", flat=True)) == (
        expected
    )
    assert set(shadow.filter(model_version="c1").values_list("symbol__ticker", flat=True)) == (
        set(TICKERS) - expected
    )
    # Every symbol has both versions' forecasts, served or not: comparable on the same pairs.
    h20 = ShadowRecord.objects.filter(model_type="horizon_20d").count()
    assert h20 == len(TICKERS)


def test_it_picks_the_same_symbols_in_every_cycle(canary):
    run_cycle(cycle_input(DAY, TICKERS), redis_client=canary)
    first = dict(Prediction.objects.values_list("symbol__ticker", "model_version"))
    runtime.clear_cache()  # as after a worker restart
    run_cycle(cycle_input(DAY + dt.timedelta(days=1), TICKERS, seed=3), redis_client=canary)
    second = dict(Prediction.objects.values_list("symbol__ticker", "model_version"))
    assert first == second


def test_it_serves_every_symbol_with_the_candidate_once_promoted(canary):
    rollout = stages.current("normal")
    stages.advance(rollout, reason="test")  # canary -> full
    result, _ = run_cycle(cycle_input(DAY, TICKERS), redis_client=canary)
    assert set(Prediction.objects.values_list("model_version", flat=True)) == {"c1"}
    watched = ShadowRecord.objects.filter(model_type="normal_day", model_version="v1")
    assert watched.count() == len(TICKERS)  # the previous version, watched in shadow
    assert result.rollouts["normal"]["stage"] == "full"
