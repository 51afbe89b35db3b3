"""``build_dataset`` on the database path: earnings facts and the earnings-day flag come from
``EarningsEvent`` / ``Fundamentals`` rows (loaded here from the real CSVs with ingestion's own
readers, as ``load_reference_data`` does)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from features.dataset import build_dataset, next_trading_days
from features.definitions import ALL_FEATURES
from features.earnings import EarningsData, earnings_features
from ingestion.models import EarningsEvent, Fundamentals, Symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference_rows(real_panel):
    from ingestion.reference.earnings import merged_events
    from ingestion.reference.fundamentals import fundamentals_rows

    syms = {t: Symbol.objects.create(ticker=t) for t in real_panel.tickers}
    ev = merged_events(settings.SHARED_DATA_DIR)
    ev = ev[ev["ticker"].isin(syms)]
    EarningsEvent.objects.bulk_create(
        EarningsEvent(
            symbol=syms[r.ticker],
            date=r.date,
            reaction_date=r.reaction_date,
            eps_estimate=None if pd.isna(r.eps_estimate) else r.eps_estimate,
            eps_actual=None if pd.isna(r.eps_actual) else r.eps_actual,
            source=r.source,
        )
        for r in ev.itertuples()
    )
    fields = {f.name for f in Fundamentals._meta.get_fields()}
    Fundamentals.objects.bulk_create(
        Fundamentals(symbol=syms[r["ticker"]], **{k: v for k, v in r.items() if k in fields})
        for r in fundamentals_rows(settings.SHARED_DATA_DIR)
        if r["ticker"] in syms
    )
    return ev


def test_it_flags_rows_whose_next_trading_day_is_a_reaction_day(real_panel, reference_rows):
    ds = build_dataset(real_panel, start="2016-01-01")
    reactions = {
        (t, np.datetime64(d))
        for t, d in zip(reference_rows.ticker, reference_rows.reaction_date, strict=True)
    }
    expected = np.array(
        [(t, n) in reactions for t, n in zip(ds.tickers, next_trading_days(ds.dates), strict=True)]
    )
    assert expected.sum() > 50  # ~4 a year for 5 symbols over 4 years
    np.testing.assert_array_equal(ds.is_earnings_day, expected)
    assert ds.X.shape == (len(ds), len(ALL_FEATURES)) and ds.X.dtype == np.float32
    assert ds.dates.min() >= np.datetime64("2016-01-01")


def test_it_reads_the_same_earnings_facts_from_the_database_as_from_the_csvs(
    real_panel, reference_rows
):
    s, d = np.nonzero(np.isfinite(real_panel.close))
    from_db = earnings_features(real_panel, s, d, EarningsData.from_db(real_panel.tickers))
    from_csv = earnings_features(real_panel, s, d, EarningsData.from_csv(real_panel.tickers))
    np.testing.assert_array_equal(from_db, from_csv)
    assert np.isfinite(from_db).any(axis=0).sum() >= 12  # most earnings features have values
