"""Whole-platform benches (``python manage.py bench faults|soak --json``): the platform's own
processes under load, with faults injected (``ops.faultbench``)."""

from __future__ import annotations

import argparse
from typing import Any

from core.benchmarks import Benchmark
from ops.faultbench.injectors import FAULTS


def _session_arguments(parser: argparse.ArgumentParser, name: str, period: float) -> None:
    parser.add_argument(
        "--name", default=name, help="work directory var/bench/NAME and database bench_NAME"
    )
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument(
        "--history", type=int, default=260, help="stored days before the replay (>= 253)"
    )
    parser.add_argument("--period", type=float, default=period, help="live cycle period (s)")
    parser.add_argument("--api-rate", type=float, default=20.0, help="API GETs per second")
    parser.add_argument("--ws-clients", type=int, default=20)


class FaultsBenchmark(Benchmark):
    name = "faults"
    help = "Live cycle + API and WebSocket load on the platform's processes, one fault at a time"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _session_arguments(parser, "faults", period=1.0)
        parser.add_argument("--cycles", type=int, default=20, help="live cycles per fault")
        parser.add_argument(
            "--faults", default=",".join(FAULTS), help=f"comma-separated, of {sorted(FAULTS)}"
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from ops.faultbench.faults import run_faults

        return run_faults(options)


class SoakBenchmark(Benchmark):
    name = "soak"
    help = "The replay at full speed with API and WebSocket load: memory growth, errors, queues"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _session_arguments(parser, "soak", period=3600.0)
        parser.add_argument("--minutes", type=float, default=30.0)
        parser.add_argument("--warmup-minutes", type=float, default=3.0)

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from ops.faultbench.soak import run_soak

        return run_soak(options)


BENCHMARKS = [FaultsBenchmark, SoakBenchmark]
