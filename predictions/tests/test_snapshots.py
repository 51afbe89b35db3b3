"""A prediction's inputs read back from its snapshot: the per-day ranks follow from the rows of
the same cycle, checked against SciPy's ranking."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import rankdata

from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.models import Prediction
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.snapshots import day_ranks, inputs_of

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2025, 7, 8)
TICKERS = [f"S{i:03d}" for i in range(40)]


@pytest.fixture
def cycle(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    inp = cycle_input(DAY, TICKERS, nan_share=0.2)
    inp.X[:, inp.feature_names.index("rsi_14")] = np.round(inp.X[:, 0])  # many ties
    run_cycle(inp, redis_client=redis_client, realise=False)
    yield inp
    runtime.clear_cache()


def _reference(column: np.ndarray, i: int) -> float:
    """Percentile rank in [-0.5, 0.5] among the finite values (mean rank for ties)."""
    finite = column[np.isfinite(column)]
    position = rankdata(finite, method="average")[np.flatnonzero(finite == column[i])[0]]
    return float((position - 0.5) / finite.size - 0.5)


def _stamp(ticker: str) -> dt.datetime:
    return Prediction.objects.get(symbol__ticker=ticker).data_timestamp


def test_it_ranks_each_stored_feature_among_the_cycles_symbols(cycle):
    for i in (3, 17):
        ticker = TICKERS[i]
        ranks = day_ranks(ticker, _stamp(ticker))
        for j, name in enumerate(cycle.feature_names):
            value = float(cycle.X[i, j])
            if name in ("market_return", "market_volatility") or not np.isfinite(value):
                assert f"xs_rank:{name}" not in ranks
                continue
            expected = _reference(cycle.X[:, j].astype(np.float64), i)
            assert ranks[f"xs_rank:{name}"] == pytest.approx(expected, abs=1e-6), name


def test_it_ranks_only_among_rows_of_the_same_data_timestamp(cycle, redis_client):
    stamp = _stamp("S005")
    later = cycle_input(DAY + dt.timedelta(days=1), TICKERS[:10], seed=1)
    run_cycle(later, redis_client=redis_client, realise=False)
    assert day_ranks("S005", stamp) == {}  # its row now holds the next day
    j = int(np.flatnonzero(np.isfinite(cycle.X[20, :13]))[0])  # a feature S020 has
    name = cycle.feature_names[j]
    rest = cycle.X[10:, j].astype(np.float64)  # the symbols still on the first day
    got = day_ranks("S020", stamp)[f"xs_rank:{name}"]
    assert got == pytest.approx(_reference(rest, 10), abs=1e-6)
    assert got != pytest.approx(_reference(cycle.X[:, j].astype(np.float64), 20), abs=1e-6)


def test_it_keeps_the_ranks_an_older_snapshot_stored(cycle):
    row = Prediction.objects.get(symbol__ticker="S003")
    old = dict(row.features_snapshot) | {"xs_rank:return_1d": 0.123}
    got = inputs_of("S003", row.data_timestamp, old)
    assert got["xs_rank:return_1d"] == 0.123
    assert "xs_rank:return_5d" in got or "return_5d" not in old
    assert inputs_of("S003", row.data_timestamp, None) == {}


def test_it_derives_the_sector_inputs_from_the_same_rows(cycle):
    from ingestion.models import Symbol

    for i, ticker in enumerate(TICKERS):
        Symbol.objects.filter(ticker=ticker).update(sector=("Energy", "Utilities", "")[i % 3])
    j = cycle.feature_names.index("return_5d")
    column = cycle.X[:, j].astype(np.float64)
    energy = column[0::3]  # the Energy symbols of the cycle
    for i in (3, 6):
        got = day_ranks(TICKERS[i], _stamp(TICKERS[i]))
        if not np.isfinite(column[i]):
            assert "sector_rel:return_5d" not in got
            continue
        mean = float(np.nanmean(energy))
        assert got["sector_mean:return_5d"] == pytest.approx(mean, rel=1e-5)
        assert got["sector_rel:return_5d"] == pytest.approx(column[i] - mean, rel=1e-4, abs=1e-7)
    k = next(i for i in range(2, len(TICKERS), 3) if np.isfinite(column[i]))  # no sector
    unknown = day_ranks(TICKERS[k], _stamp(TICKERS[k]))
    assert "sector_mean:return_5d" not in unknown and "xs_rank:return_5d" in unknown
