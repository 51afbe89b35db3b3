"""The accuracy page's comparison of a rollout's versions on the same live days (issue 22):
aggregate figures only, never a shadow forecast."""

from __future__ import annotations

import datetime as dt

import pytest

from predictions.accuracy import record_realised
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.rollout import stages
from predictions.tests.rollout_support import candidate, realise_day

pytestmark = pytest.mark.django_db(transaction=True)

TICKERS = [f"S{i:03d}" for i in range(40)]


def test_it_compares_shadow_and_active_on_the_same_days(client, tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    candidate(tmp_path, "normal", "cand-7", bias=0.01)
    stages.start("normal", "cand-7")
    run_cycle(cycle_input(dt.date(2025, 7, 8), TICKERS), redis_client=redis_client, realise=False)
    realise_day(dt.date(2025, 7, 9), TICKERS)
    record_realised(dt.date(2025, 7, 9))
    stages.realise_pending()
    page = client.get("/accuracy")
    runtime.clear_cache()
    rollout = {k["kind"]: k for k in page.context["kinds"]}["normal"]["rollout"]
    assert (rollout["stage"], rollout["candidate"], rollout["previous"]) == (
        "shadow", "cand-7", "v1",
    )  # fmt: skip
    assert rollout["n"] == 40 and rollout["days"] == 1
    assert rollout["mae"] > rollout["mae_other"]
    assert b'data-testid="rollout-normal"' in page.content
    assert b'data-testid="rollout-earnings"' not in page.content
