"""Out-of-distribution score of a prediction's inputs: a Mahalanobis distance to the training data.

Statistics are fitted once per model version by the training lifecycle (``fit_stats``, stored
in the version's metadata under "ood") and applied to every symbol of a cycle at once
(``OodStats.score``: one matrix product).

Features are heavy-tailed (volumes, dollar volume), so each is first robust-scaled (median,
IQR of the training sample) and squashed by a signed log1p: a far-out value still scores high,
but one extreme column cannot swamp the covariance. Missing values are put at the centre: a
missing input is not evidence of an unusual one. The threshold is the ``QUANTILE`` of the
VALIDATION year's scores (data the statistics did not see), so about 1% of ordinary days are
flagged; ``validation_flagged_share`` records what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

QUANTILE = 0.99
MAX_ROWS = 50_000
RIDGE = 1e-3


def _transform(X: np.ndarray, median: np.ndarray, iqr: np.ndarray) -> np.ndarray:
    z = (np.asarray(X, np.float64) - median) / iqr
    z = np.sign(z) * np.log1p(np.abs(z))
    out: np.ndarray = np.where(np.isfinite(z), z, 0.0)
    return out


def _sample(X: np.ndarray, rows: int, seed: int) -> np.ndarray:
    if len(X) <= rows:
        return np.asarray(X)
    index = np.random.default_rng(seed).choice(len(X), rows, replace=False)
    return np.asarray(X)[np.sort(index)]


@dataclass(frozen=True)
class OodStats:
    median: np.ndarray
    iqr: np.ndarray
    mean: np.ndarray
    precision: np.ndarray
    threshold: float

    def score(self, X: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of each row of ``X`` (N, F), vectorised."""
        d = _transform(X, self.median, self.iqr) - self.mean
        # d @ P through BLAS, then the row-wise dot: a three-operand einsum loops in C without
        # BLAS (34 ms vs 1 ms for 5,000 rows of 68 inputs, every cycle).
        squared = np.einsum("ij,ij->i", d @ self.precision, d)
        out: np.ndarray = np.sqrt(np.maximum(squared, 0))
        return out

    def flagged(self, scores: np.ndarray) -> np.ndarray:
        out: np.ndarray = scores > self.threshold
        return out

    def to_metadata(self, **extra: Any) -> dict[str, Any]:
        return {
            "method": "mahalanobis (robust-scaled, signed log1p)",
            "median": self.median.tolist(),
            "iqr": self.iqr.tolist(),
            "mean": self.mean.tolist(),
            "precision": self.precision.tolist(),
            "threshold": self.threshold,
            "threshold_quantile_validation": QUANTILE,
            **extra,
        }

    @classmethod
    def from_metadata(cls, data: Any, n_features: int) -> OodStats | None:
        """None when absent or not for ``n_features`` inputs (the model then has no flag)."""
        if not isinstance(data, dict):
            return None
        try:
            stats = cls(
                median=np.asarray(data["median"], np.float64),
                iqr=np.asarray(data["iqr"], np.float64),
                mean=np.asarray(data["mean"], np.float64),
                precision=np.asarray(data["precision"], np.float64),
                threshold=float(data["threshold"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if stats.precision.shape != (n_features, n_features) or stats.mean.shape != (n_features,):
            return None
        return stats


def fit_stats(x_train: np.ndarray, x_val: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """The "ood" metadata of a model version: statistics of (a sample of) its training inputs
    and the threshold chosen on its validation inputs."""
    train = _sample(x_train, MAX_ROWS, seed).astype(np.float64)
    median = np.nanmedian(train, axis=0)
    q75, q25 = np.nanpercentile(train, [75, 25], axis=0)
    iqr = np.where(np.isfinite(q75 - q25) & (q75 - q25 > 1e-12), q75 - q25, 1.0)
    median = np.where(np.isfinite(median), median, 0.0)
    z = _transform(train, median, iqr)
    mean = z.mean(axis=0)
    cov = np.cov(z, rowvar=False) + RIDGE * np.eye(z.shape[1])
    precision = np.linalg.pinv(cov)
    provisional = OodStats(median, iqr, mean, precision, float("inf"))
    val_scores = provisional.score(_sample(x_val, MAX_ROWS, seed + 1))
    threshold = float(np.quantile(val_scores, QUANTILE))
    stats = OodStats(median, iqr, mean, precision, threshold)
    return stats.to_metadata(
        train_rows=len(train),
        validation_rows=len(val_scores),
        validation_flagged_share=float(np.mean(stats.flagged(val_scores))),
    )
