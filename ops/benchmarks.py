"""Whole-platform benches (``python manage.py bench faults|soak|mixed --json``): the platform's own
processes under load, with faults injected (``ops.faultbench``)."""

from __future__ import annotations

import argparse
from typing import Any

from core.benchmarks import Benchmark
from ops.faultbench.injectors import FAULTS
from predictions.benchmarks.ws import CLIENTS


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


class MixedBenchmark(Benchmark):
    name = "mixed"
    help = "API load, WebSocket clients and the live cycle at once: latencies, cycle, CPU shares"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _session_arguments(parser, "mixed", period=1.0)
        parser.set_defaults(api_rate=5000.0, ws_clients=10_000)
        parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
        parser.add_argument("--api-connections", type=int, default=64)
        parser.add_argument("--ws-processes", type=int, default=4, help="client processes")
        parser.add_argument(
            "--ws-client", choices=CLIENTS, default=CLIENTS[0], help="WebSocket client code"
        )
        parser.add_argument("--no-horizons", action="store_true", help="one-day models only")

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        from ops.faultbench.mixed import run_mixed

        return run_mixed(options)


BENCHMARKS = [FaultsBenchmark, SoakBenchmark, MixedBenchmark]
