"""Incremental == full == training data set, and point in time: appending later days never
changes the features of an earlier day."""

from __future__ import annotations

import numpy as np
import pytest

from features.dataset import build_dataset
from features.earnings import EarningsData
from features.live import DayBars, FeatureEngine

pytestmark = pytest.mark.django_db


def _bars(panel, j: int) -> DayBars:
    return DayBars(
        date=panel.dates[j].item(),
        tickers=panel.tickers,
        **{f: getattr(panel, f)[:, j] for f in ("open", "high", "low", "close", "volume")},
    )


@pytest.fixture(scope="module")
def earnings_csv(real_panel, django_db_blocker):
    with django_db_blocker.unblock():
        return EarningsData.from_csv(real_panel.tickers)


def test_it_gives_the_same_features_incrementally_as_from_scratch(real_panel, earnings_csv):
    cut = len(real_panel.dates) - 5
    engine = FeatureEngine(earnings_csv)
    engine.full(real_panel.until(real_panel.dates[cut - 1]))
    for j in range(cut, len(real_panel.dates)):
        incremental = engine.update(_bars(real_panel, j))
    scratch = FeatureEngine(earnings_csv).full(real_panel)
    assert incremental.data_date == scratch.data_date == real_panel.dates[-1].item()
    np.testing.assert_array_equal(incremental.X, scratch.X)  # bit-identical, NaN included
    assert np.isfinite(scratch.X[:, :20]).all()


def test_it_serves_the_rows_the_training_set_holds(real_panel, earnings_csv, monkeypatch):
    from features import dataset

    original = dataset.earnings_features
    monkeypatch.setattr(
        dataset, "earnings_features", lambda p, s, d: original(p, s, d, earnings_csv)
    )
    ds = build_dataset(real_panel)
    live = FeatureEngine(earnings_csv).full(real_panel)
    last = ds.dates == real_panel.dates[-1]
    order = [int(np.flatnonzero(live.tickers == t)[0]) for t in ds.tickers[last]]
    np.testing.assert_array_equal(ds.X[last], live.X[order])
    np.testing.assert_array_equal(ds.current_close[last], live.close[order])
    assert np.isnan(ds.y[last]).all()  # no next day in the panel


def test_it_does_not_change_past_features_when_later_days_are_appended(
    real_panel, earnings_csv, monkeypatch
):
    from features import dataset

    original = dataset.earnings_features
    monkeypatch.setattr(
        dataset, "earnings_features", lambda p, s, d: original(p, s, d, earnings_csv)
    )
    day = real_panel.dates[-60]
    short = build_dataset(real_panel.until(day))
    full = build_dataset(real_panel, end=day)
    assert len(short) == len(full) > 0
    np.testing.assert_array_equal(short.X, full.X)
    # y of the cut day needs the next day: unknown in the short panel, known in the long one.
    at_day = short.dates == day
    assert np.isnan(short.y[at_day]).all() and np.isfinite(full.y[at_day]).all()
    np.testing.assert_array_equal(short.y[~at_day], full.y[~at_day])


def test_it_rejects_a_day_that_is_not_after_the_data_date(real_panel, earnings_csv):
    engine = FeatureEngine(earnings_csv)
    engine.full(real_panel)
    with pytest.raises(ValueError):
        engine.update(_bars(real_panel, len(real_panel.dates) - 1))
