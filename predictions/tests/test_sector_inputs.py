"""The sector inputs (``sector_mean:<f>``, ``sector_rel:<f>``): against pandas' group means,
only the same day's symbols of the same sector, and the same values in training and serving."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ingestion.models import Symbol
from ingestion.sectors import forget_sectors, sectors_of
from predictions.ml import data, inputs
from predictions.ml.lifecycle import row_sectors
from predictions.tests.price_slices import TEST_SYMBOLS, day_cycle_input, write_slice

NAMES = ["return_1d", "return_5d", "return_20d"]
SECTOR_INPUTS = [f"{p}{f}" for p in (inputs.SECTOR_REL, inputs.SECTOR_MEAN) for f in NAMES]


def _frame(seed: int = 0, n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.02, (n, len(NAMES)))
    x[rng.random(x.shape) < 0.1] = np.nan
    days = rng.integers(0, 12, n)
    sectors = rng.choice(["Energy", "Financials", "Utilities", ""], n, p=[0.5, 0.3, 0.05, 0.15])
    return x, days, sectors


def _pandas_reference(x: np.ndarray, days: np.ndarray, sectors: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(x, columns=NAMES).assign(day=days, sector=sectors)
    grouped = frame.groupby(["day", "sector"])[NAMES]
    mean = grouped.transform("mean").where(grouped.transform("count") >= 3)
    mean[frame["sector"] == ""] = np.nan
    rel = frame[NAMES] - mean
    return np.column_stack([rel.to_numpy(), mean.to_numpy()])


def test_it_means_each_days_sector_as_pandas_does() -> None:
    x, days, sectors = _frame()
    got = inputs.model_inputs(x, NAMES, SECTOR_INPUTS, days, sectors=sectors)
    expected = _pandas_reference(x, days, sectors)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert np.isnan(got[sectors == ""]).all()  # no sector, no sector inputs
    assert np.isfinite(got[sectors == "Energy", 3]).any()


def test_it_uses_only_the_same_days_symbols() -> None:
    x, days, sectors = _frame(seed=1)
    before = inputs.model_inputs(x, NAMES, SECTOR_INPUTS, days, sectors=sectors)
    changed = x.copy()
    changed[days != 4] = np.random.default_rng(2).normal(5, 1, changed[days != 4].shape)
    after = inputs.model_inputs(changed, NAMES, SECTOR_INPUTS, days, sectors=sectors)
    np.testing.assert_array_equal(after[days == 4], before[days == 4])
    assert not np.allclose(after[days != 4], before[days != 4], equal_nan=True)


def test_it_refuses_sector_inputs_without_sectors() -> None:
    x, days, _ = _frame()
    with pytest.raises(KeyError, match="Sectors not supplied"):
        inputs.model_inputs(x, NAMES, SECTOR_INPUTS, days)


def test_it_lists_the_sector_inputs_of_the_scheme() -> None:
    features = data.feature_columns("normal", "price")
    names = inputs.input_columns(features, "xs_rank_sector")
    assert names[: len(features)] == features
    assert names == inputs.input_columns(features, "xs_rank") + SECTOR_INPUTS
    assert inputs.needs_sectors(names) and not inputs.needs_sectors(names[:-6])
    assert {inputs.base_name(n) for n in SECTOR_INPUTS} == set(NAMES)


@pytest.mark.django_db
def test_it_serves_the_same_sector_inputs_as_it_trains_on(tmp_path) -> None:
    from features.dataset import build_dataset
    from features.definitions import ALL_FEATURES
    from features.panel import Panel
    from predictions.pipeline.cycle import _inputs

    sector = {t: ("Energy", "Health Care", "")[i % 3] for i, t in enumerate(TEST_SYMBOLS)}
    Symbol.objects.bulk_create(Symbol(ticker=t, name=t, sector=s) for t, s in sector.items())
    forget_sectors()
    ds = build_dataset(Panel.from_csv(write_slice(tmp_path, start="2018-01-01", end="2019-06-30")))
    names = inputs.input_columns(data.feature_columns("normal", "price"), "xs_rank_sector")
    sectors = row_sectors(ds, names)
    assert sectors is not None
    assert list(sectors_of(np.array(["XOM", "NOPE"]))) == [sector["XOM"], ""]
    every_day = inputs.model_inputs(
        ds.X, ALL_FEATURES, names, inputs.day_ids_of(ds.dates), sectors=sectors
    )
    for day in np.unique(ds.dates.astype("datetime64[D]"))[[30, -1]]:
        rows, cycle_input = day_cycle_input(ds, day)
        model = SimpleNamespace(kind="normal", version="v-test", features=names)
        served = _inputs(model, cycle_input)
        np.testing.assert_array_equal(served, every_day[rows])
        assert np.isfinite(served[:, names.index("sector_mean:return_1d")]).sum() == 8
    forget_sectors()
