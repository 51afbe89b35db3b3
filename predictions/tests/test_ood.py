"""Out-of-distribution flag: fires on shifted inputs, not on training-like ones; travels with
every copy of the prediction; the accuracy figures split on it."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from predictions.accuracy import ood_accuracy
from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
from predictions.latest import read_one
from predictions.models import ModelVersion, Prediction, PredictionRecord
from predictions.ood import OodStats, fit_stats
from predictions.pipeline import runtime
from predictions.pipeline.cycle import run_cycle
from predictions.tests.api_support import access_token


def _inputs(n: int, seed: int, f: int = 20) -> np.ndarray:
    """Correlated, heavy-tailed features with some missing values, like the real ones."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(f, f)) * 0.3 + np.eye(f)
    X = rng.standard_t(5, size=(n, f)) @ mix
    X[:, 3] = np.exp(0.5 * rng.normal(size=n))  # a volume-like, skewed column
    X[rng.random(X.shape) < 0.03] = np.nan
    return X


def _stats(seed: int = 0) -> tuple[dict, OodStats]:
    meta = fit_stats(_inputs(20000, 1 + seed), _inputs(5000, 2 + seed))
    stats = OodStats.from_metadata(meta, 20)
    assert stats is not None
    return meta, stats


def test_it_scores_the_mahalanobis_distance_scipy_computes():
    from scipy.spatial.distance import mahalanobis

    from predictions.ood import _transform

    _, stats = _stats()
    X = _inputs(200, 11)
    z = _transform(X, stats.median, stats.iqr)
    want = [mahalanobis(row, stats.mean, stats.precision) for row in z]
    np.testing.assert_allclose(stats.score(X), want, rtol=1e-9)


def test_it_does_not_fire_on_training_like_inputs():
    meta, stats = _stats()
    assert meta["validation_flagged_share"] == pytest.approx(0.01, abs=0.002)
    fresh = stats.flagged(stats.score(_inputs(5000, 9)))
    assert fresh.mean() < 0.03


def test_it_fires_on_shifted_inputs():
    _, stats = _stats()
    shifted = _inputs(2000, 9)
    shifted[:, :5] += 10.0  # a level the training data never showed, in a few features
    assert stats.flagged(stats.score(shifted)).mean() > 0.6
    turbulent = _inputs(2000, 10) * 3  # every feature three times as dispersed
    assert stats.flagged(stats.score(turbulent)).mean() > 0.35
    # The further out, the higher the score.
    far = _inputs(2000, 9)
    far[:, :5] += 20.0
    assert np.median(stats.score(far)) > np.median(stats.score(shifted))


def test_it_treats_missing_inputs_as_ordinary():
    _, stats = _stats()
    missing = np.full((10, 20), np.nan)
    assert not stats.flagged(stats.score(missing)).any()


# --- in the cycle and every copy ----------------------------------------------------------------

DAY = dt.date(2025, 7, 8)
TICKERS = [f"O{i:03d}" for i in range(40)]


@pytest.mark.django_db(transaction=True)
def test_it_travels_in_the_cache_the_records_and_the_api(tmp_path, redis_client):
    runtime.clear_cache()
    make_symbols(TICKERS)
    install_models(tmp_path)
    inp = cycle_input(DAY, TICKERS, nan_share=0.0)
    normal = ModelVersion.objects.get(kind="normal", status="active")
    cols = [inp.feature_names.index(f) for f in runtime.get_model("normal").features]
    rng = np.random.default_rng(4)
    train = rng.normal(size=(20000, len(cols)))
    normal.metadata = {**normal.metadata, "ood": fit_stats(train, rng.normal(size=(5000, 20)))}
    normal.save()
    runtime.clear_cache()
    inp.X[:5, cols[0]] += 12.0  # five symbols far outside the training data
    result, _ = run_cycle(inp, redis_client=redis_client, publish=False)
    assert result.errors == []
    cached = {t: json.loads(redis_client.get(f"pred:{t}"))["ood"] for t in TICKERS}
    assert all(cached[t]["flagged"] is True for t in TICKERS[:5])
    assert sum(cached[t]["flagged"] for t in TICKERS[5:]) <= 2
    assert cached["O000"]["score"] > cached["O010"]["score"] > 0
    record = PredictionRecord.objects.get(symbol__ticker="O000")
    assert record.ood_flagged is True and record.ood_score == cached["O000"]["score"]
    assert Prediction.objects.get(symbol__ticker="O000").ood == cached["O000"]
    assert read_one("O000").ood == cached["O000"]
    api = APIClient()
    user = User.objects.create_user("ood-reader", "o@example.org", "pw-12345678")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    body = api.get("/api/prediction/O000").json()
    assert body["ood"] == cached["O000"] and body["uncertainty"]["p10"] is not None
    redis_client.delete("pred:O000")  # the PostgreSQL read path carries it too
    assert read_one("O000").ood == cached["O000"]
    assert api.get("/api/prediction/O000").json()["ood"] == cached["O000"]
    runtime.clear_cache()


@pytest.mark.django_db
def test_it_splits_accuracy_on_the_flag():
    ids = make_symbols(TICKERS[:4])
    target = dt.date(2025, 7, 9)
    for i, ticker in enumerate(TICKERS[:4]):
        flagged = i < 2
        PredictionRecord.objects.create(
            symbol_id=ids[ticker], data_timestamp=timezone.now(), target_date=target,
            model_type="normal_day", model_version="v1", current_price=1.0,
            predicted_return_1d=0.0, predicted_price=1.0, p10=-0.01, p50=0.0, p90=0.01,
            predicted_at=timezone.now(), realised_return=0.04 if flagged else 0.005,
            abs_error=0.04 if flagged else 0.005, inside_interval=not flagged,
            realised_at=timezone.now(), ood_score=9.0 if flagged else 1.0, ood_flagged=flagged,
        )  # fmt: skip
    figures = ood_accuracy()["normal"]
    assert figures["flagged"] == {"n": 2, "mae": 0.04, "coverage": 0.0}
    assert figures["unflagged"] == {"n": 2, "mae": 0.005, "coverage": 1.0}
    assert figures["mae_ratio"] == 8.0
