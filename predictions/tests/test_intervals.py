"""Online interval calibration: convergence under a variance shift, no look-ahead, persistence."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from django.utils import timezone

from predictions import interval_state
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.intervals import Calibrator, adapt, scores
from predictions.models import IntervalCalibration, PredictionRecord
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle

Z80 = 1.2815516


def _simulate(sigmas: list[float], *, adapt_on: bool, n: int = 400, seed: int = 1):
    """Daily batches of N(0, sigma_t) outcomes against a FIXED offline interval N(0, 1): each
    day's scale comes from the days before it only."""
    rng = np.random.default_rng(seed)
    raw_q = np.tile([-Z80, 0.0, Z80], (n, 1))
    calibrator = Calibrator("normal")
    covered = []
    for day, sigma in enumerate(sigmas):
        scale = calibrator.scale() if adapt_on else None
        served = adapt(raw_q, scale) if scale is not None else raw_q
        y = rng.normal(0.0, sigma, size=n)
        inside = (y >= served[:, 0]) & (y <= served[:, 2])
        covered.append(float(inside.mean()))
        key = (dt.date(2024, 1, 1) + dt.timedelta(days=day)).isoformat()
        calibrator.update(key, scores(y, raw_q), float(1 - inside.mean()))
    return np.array(covered)


def test_it_converges_to_nominal_coverage_after_a_variance_shift():
    sigmas = [1.0] * 60 + [2.5] * 80 + [0.6] * 80
    adapted = _simulate(sigmas, adapt_on=True)
    offline = _simulate(sigmas, adapt_on=False)
    # After each shift has settled (20 days), coverage is back at 80%...
    for lo, hi in ((80, 140), (160, 220)):
        assert adapted[lo:hi].mean() == pytest.approx(0.80, abs=0.02)
    # ...while the fixed offline interval is far off in both regimes.
    assert offline[80:140].mean() < 0.45 and offline[160:220].mean() > 0.95


def test_it_is_calibrated_on_a_stationary_stream():
    adapted = _simulate([1.0] * 120, adapt_on=True)
    assert adapted[20:].mean() == pytest.approx(0.80, abs=0.015)


def test_it_round_trips_and_rejects_a_corrupt_state():
    calibrator = Calibrator("normal", "v1")
    calibrator.update("2024-01-02", np.linspace(0, 3, 500), 0.3)
    again = Calibrator.from_state("normal", "v1", calibrator.alpha, calibrator.to_state())
    assert again.scale() == calibrator.scale() and again.alpha == pytest.approx(0.195)
    with pytest.raises(ValueError):
        Calibrator.from_state("normal", "v1", 0.2, {"days": {"2024-01-02": [1, 2]}, "scales": {}})


# --- persisted state --------------------------------------------------------------------------

T = dt.date(2025, 7, 8)
TICKERS = [f"C{i:03d}" for i in range(150)]


def _records(target: dt.date, version: str, errors: np.ndarray) -> None:
    ids = make_symbols(TICKERS)
    data_ts = dt.datetime.combine(target - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    PredictionRecord.objects.bulk_create(
        [
            PredictionRecord(
                symbol_id=ids[t],
                data_timestamp=data_ts,
                target_date=target,
                model_type="normal_day",
                model_version=version,
                current_price=10.0,
                predicted_return_1d=0.0,
                predicted_price=10.0,
                p10=-0.01,
                p50=0.0,
                p90=0.01,
                predicted_at=timezone.now(),
                realised_return=float(e),
                realised_at=timezone.now(),
            )
            for t, e in zip(TICKERS, errors, strict=True)
        ]
    )


@pytest.mark.django_db
def test_it_reads_only_outcomes_of_the_day_it_is_told():
    interval_state.served_for_cycle({"normal": "v1"}, T - dt.timedelta(days=1))
    rng = np.random.default_rng(3)
    _records(T, "v1", rng.normal(0, 0.01, 150))
    # Outcomes of LATER target days are already in the table (e.g. a replay that realised
    # ahead): huge errors that would blow the scale up if they were read.
    _records(T + dt.timedelta(days=1), "v1", rng.normal(0, 1.0, 150))
    assert interval_state.update_after_realise(T) == 150
    row = IntervalCalibration.objects.get(kind="normal")
    assert list(row.state["days"]) == [T.isoformat()]
    day_t = PredictionRecord.objects.filter(target_date=T)
    score_t = np.abs(np.array(list(day_t.values_list("realised_return", flat=True)))) / 0.01
    only_t = Calibrator("normal")
    only_t.update(T.isoformat(), score_t, float(np.mean(score_t > 1)))
    assert interval_state._read(row).scale() == pytest.approx(only_t.scale())
    assert interval_state._read(row).scale() < 3  # N(0, 1%) outcomes on a +-1% interval
    assert interval_state.update_after_realise(T) == 0  # a day is folded in once


@pytest.mark.django_db
def test_it_resets_on_a_new_version_and_falls_back_on_a_corrupt_state():
    interval_state.served_for_cycle({"normal": "v1"}, T)
    IntervalCalibration.objects.filter(kind="normal").update(state={"days": "garbage"})
    served = interval_state.served_for_cycle({"normal": "v1"}, T + dt.timedelta(days=1))
    assert served["normal"].scale is None and "corrupt" in served["normal"].reason
    served = interval_state.served_for_cycle({"normal": "v2"}, T + dt.timedelta(days=1))
    row = IntervalCalibration.objects.get(kind="normal")
    assert row.model_version == "v2" and row.state["days"] == {}
    assert served["normal"].reason == "warming up"


@pytest.mark.django_db(transaction=True)
def test_it_serves_and_stores_the_adapted_interval(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    raw = runtime.get_model("normal")
    inp = cycle_input(T, TICKERS)
    cols = [inp.feature_names.index(f) for f in raw.features]
    _, raw_q = raw.predict(inp.X[:, cols])
    calibrator = Calibrator("normal", "v1")
    calibrator.update("2025-07-07", np.full(500, 2.0), 0.5)  # every outcome at twice the width
    IntervalCalibration.objects.create(
        kind="normal", model_version="v1", alpha=calibrator.alpha,
        state=calibrator.to_state(), reset_at=timezone.now(),
    )  # fmt: skip
    result, _ = run_cycle(inp, redis_client=redis_client, publish=False)
    assert result.errors == []
    scale = calibrator.scale()
    assert scale == pytest.approx(2.0, rel=0.05)
    cached = json.loads(redis_client.get("pred:C005"))
    record = PredictionRecord.objects.get(symbol__ticker="C005")
    expected = adapt(raw_q[5:6], scale)[0]
    assert cached["p90"] == pytest.approx(expected[2], abs=2e-6)
    assert record.p10 == pytest.approx(expected[0], abs=2e-6)
    assert cached["uncertainty_method"].endswith("+aci")
    health = interval_state.health()
    assert health["kinds"]["normal"]["mode"] == "adaptive"
    runtime.clear_cache()


@pytest.mark.django_db
def test_it_says_on_healthz_when_a_kind_falls_back_to_the_offline_calibration(client):
    from predictions.models import ModelVersion

    ModelVersion.objects.create(kind="normal", version="v1", artifact_path="/x", status="active")
    interval_state.served_for_cycle({"normal": "v1"}, T)
    body = client.get("/healthz").json()
    assert body["intervals"]["offline_fallback"] is False
    assert body["intervals"]["kinds"]["normal"]["mode"] == "warming_up"
    IntervalCalibration.objects.filter(kind="normal").update(alpha=float("nan"))
    body = client.get("/healthz").json()
    assert body["intervals"]["offline_fallback"] is True
    assert body["intervals"]["kinds"]["normal"]["mode"] == "offline_fallback"
    IntervalCalibration.objects.all().delete()
    assert client.get("/healthz").json()["intervals"]["kinds"]["normal"]["reason"] == (
        "no state for the active version"
    )
