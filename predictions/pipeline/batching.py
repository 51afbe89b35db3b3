"""Measuring the inference batch size instead of guessing it.

Throughput of one ONNX session is timed at several batch sizes on the machine, provider and
thread count it will serve with; the chosen size is the smallest one within ``TOLERANCE`` of the
best throughput (smaller batches mean lower latency and memory for the same speed). The runtime
does this once per worker process per model version; the pipeline benchmark prints the table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

CANDIDATES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
TOLERANCE = 0.05


@dataclass
class BatchMeasurement:
    chosen: int
    rows_per_s: dict[int, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "rows_per_s": {str(k): round(v) for k, v in self.rows_per_s.items()},
        }


def measure(
    session: ort.InferenceSession,
    input_name: str,
    n_features: int,
    candidates: tuple[int, ...] = CANDIDATES,
    *,
    budget_rows: int = 16384,
    seed: int = 0,
) -> BatchMeasurement:
    """Time ``session`` at each batch size in ``candidates``: one warm-up run, then enough runs to
    push about ``budget_rows`` rows through (at least 3), best of those runs counted."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(max(candidates), n_features)).astype(np.float32)
    rates: dict[int, float] = {}
    for size in candidates:
        batch = data[:size]
        session.run(None, {input_name: batch})  # warm-up: allocations, kernel selection
        repeats = max(3, budget_rows // size)
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            session.run(None, {input_name: batch})
            best = min(best, time.perf_counter() - started)
        rates[size] = size / best
    top = max(rates.values())
    chosen = min(size for size, rate in rates.items() if rate >= top * (1 - TOLERANCE))
    return BatchMeasurement(chosen=chosen, rows_per_s=rates)
