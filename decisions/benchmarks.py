"""``python manage.py bench backtest [--file PATH] [--cost-bps 5] --json``: the backtest at full
size. Without ``--file`` it reads the stored walk-forward predictions of ``--model``, else builds
the reversal baseline (``decisions.baseline``) for every S&P member 2013-2025 from the shared
prices in a temporary directory (building it is not timed)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from core.benchmarks import Benchmark
from decisions import baseline, sources
from decisions.backtest import Options, backtest


def _baseline_file(directory: Path) -> Path:
    prices = baseline.price_rows(None, "2012-10-01", "2025-12-31")
    frame = baseline.reversal_predictions(prices)
    frame = frame[frame["date"] >= "2012-12-31"]
    return baseline.write_file(directory / "predictions.csv.gz", frame)


class BacktestBenchmark(Benchmark):
    name = "backtest"
    help = "The walk-forward backtest at full size (target: JSON within 2 minutes)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--file", type=Path, default=None)
        parser.add_argument("--model", default="normal")
        parser.add_argument("--cost-bps", type=float, default=5.0)

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp:
            file = options["file"]
            what = "file"
            if file is None:
                stored = [p for p in sources.walkforward_files(options["model"]) if p.exists()]
                file, what = (stored[0], "stored walk-forward") if stored else (None, "baseline")
            if file is None:
                file = _baseline_file(Path(tmp))
            started = time.monotonic()
            result = backtest("walkforward", Options(cost_bps=options["cost_bps"]), path=file)
            seconds = time.monotonic() - started
        result.pop("curves")
        result.pop("machine", None)
        return {"forecasts": what, "backtest_seconds": round(seconds, 2), **result}


BENCHMARKS = [BacktestBenchmark]
