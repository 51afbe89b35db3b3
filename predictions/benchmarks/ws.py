"""``python manage.py bench ws [--clients N] --json``

N authenticated WebSocket clients (the ``websockets`` library, asyncio, in a few client
processes separate from the server) connect to ``/ws/predictions`` on a real ASGI server and
subscribe to symbols; then ONE real pipeline cycle for 5,000 symbols runs
(``predictions.pipeline.cycle.run_cycle``: routing, ONNX inference with the pipeline's toy
contract models, PostgreSQL + Redis writes, publish through the channels_redis layer).

Figures:
- ``clients_held``: connections open and subscribed when the cycle starts, and still open after;
- ``memory_per_client_kb``: server RSS (process tree) after the clients joined minus before,
  divided by the clients held;
- ``delivery_p50_ms`` / ``delivery_p99_ms``: from the start of the cycle's publish step to
  each client's receipt of its update (wall clock, same machine), over every expected update;
  ``delivery_from_cycle_start_*`` adds inference and the writes.

Client i subscribes to ``--symbols-per-client`` consecutive symbols from i (mod 5,000), so with
10,000 clients and 1 symbol each every symbol has two subscribers (10,000 deliveries). Runs in
the benchmark database and Redis like ``bench api`` (see predictions/benchmarks/api.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from core.benchmarks import Benchmark
from predictions.benchmarks.api import (
    BASE_DIR,
    RAW_FRAMES_WS,
    access_token_for,
    bench_tickers,
    bench_user,
    default_server,
    free_port,
    in_bench_child,
    ms,
    percentile,
    prepare_database,
    raise_fd_limit,
    run_in_bench_child,
    start_server,
    stop_server,
)

# The clients: "minimal" (predictions.benchmarks.ws_client, an asyncio.Protocol) or the
# ``websockets`` library's asyncio client (docs/performance.md: CPU per update of each).
CLIENTS = ("minimal", "websockets")
HANDSHAKE_CONCURRENCY = 200  # simultaneous opening handshakes per client process
SOURCE_ADDRESSES = 16  # loopback source addresses the clients connect from


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants."""
    import psutil

    total = 0.0
    for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def tree_rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    total: int = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


@dataclass
class ClientFleet:
    """WebSocket clients in ``len(procs)`` processes (``--clients-proc``), connected and
    subscribed; ``go`` starts their listening, ``results`` collects what each process saw."""

    procs: list[subprocess.Popen[str]]
    opened: int = 0
    failed: int = 0
    connect_s: float = 0.0

    @classmethod
    def connect(cls, params: dict[str, Any], clients: int, processes: int) -> ClientFleet:
        fleet = cls([])
        k = max(1, processes)
        for p in range(k):
            proc = subprocess.Popen(
                [sys.executable, "-m", "predictions.benchmarks.ws", "--clients-proc"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BASE_DIR,
            )  # fmt: skip
            _send_line(proc, json.dumps({**params, "indices": list(range(p, clients, k))}))
            fleet.procs.append(proc)
        started = time.time()
        for proc in fleet.procs:
            ready = _read_line(proc).split()
            if not ready or ready[0] != "READY":
                fleet.kill()
                raise RuntimeError(f"client process failed: {ready}")
            fleet.opened += int(ready[1])
            fleet.failed += int(ready[2])
        fleet.connect_s = time.time() - started
        return fleet

    def go(self) -> None:
        for proc in self.procs:
            _send_line(proc, "GO")

    def results(self, timeout: float) -> list[dict[str, Any]]:
        return [json.loads(proc.communicate(timeout=timeout)[0]) for proc in self.procs]

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()


# --- the benchmark -----------------------------------------------------------------------------


class WsBenchmark(Benchmark):
    name = "ws"
    help = "WebSocket clients held, memory per client and delivery latency of one cycle"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from django.conf import settings

        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--symbols-per-client", type=int, default=1)
        parser.add_argument("--client-processes", type=int, default=4)
        parser.add_argument("--client", choices=CLIENTS, default=CLIENTS[0], help="client code")
        parser.add_argument("--wait", type=float, default=60.0, help="Max seconds for delivery")
        parser.add_argument("--server", choices=["daphne", "uvicorn"], default=default_server())
        parser.add_argument(
            "--workers", type=int, default=2, help="uvicorn worker processes (Procfile: 2)"
        )
        parser.add_argument(
            "--ws-impl",
            choices=[RAW_FRAMES_WS, "auto", "websockets", "websockets-sansio"],
            default=os.environ.get("BENCH_UVICORN_WS", RAW_FRAMES_WS),
            help="uvicorn --ws implementation (raw-frames: the Procfile's, core.ws_raw_frames)",
        )
        parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
        parser.add_argument(
            "--handshakes",
            type=int,
            default=HANDSHAKE_CONCURRENCY,
            help="simultaneous opening handshakes per client process",
        )
        parser.add_argument(
            "--ping",
            default=os.environ.get("BENCH_UVICORN_PING", ""),
            help="uvicorn --ws-ping-interval and --ws-ping-timeout (s; default uvicorn's 20): "
            "on a crowded machine idle clients miss 20-s pongs while 50,000 connect",
        )
        parser.add_argument(
            "--layer",
            choices=["core", "pubsub"],
            default=settings.CHANNEL_LAYER,
            help="Channels layer (CHANNEL_LAYER setting) of the server and the pipeline",
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        if not in_bench_child():
            argv = [
                "--clients", str(options["clients"]),
                "--symbols-per-client", str(options["symbols_per_client"]),
                "--client-processes", str(options["client_processes"]),
                "--wait", str(options["wait"]), "--server", options["server"],
                "--workers", str(options["workers"]), "--handshakes", str(options["handshakes"]),
                "--client", options["client"],
            ]  # fmt: skip
            env = {
                "CHANNEL_LAYER": options["layer"],
                "BENCH_UVICORN_WS": options["ws_impl"],
                "BENCH_UVICORN_PING": options["ping"],
            }
            return run_in_bench_child(self.name, options, argv, env)
        return self._run(options)

    def _run(self, options: dict[str, Any]) -> dict[str, Any]:
        from django.conf import settings

        from predictions.benchmarks.api import run_pipeline_cycle
        from predictions.benchmarks.universe import make_symbols
        from predictions.pipeline import publisher

        fd_limit = raise_fd_limit()
        load_before = os.getloadavg()
        prepare_database()
        tickers = bench_tickers()
        make_symbols(tickers)
        token = access_token_for(bench_user("enterprise"))
        port = free_port()
        workers = options["workers"] if options["server"] == "uvicorn" else 1
        server = start_server(options["server"], port, workers=workers)
        fleet: ClientFleet | None = None
        try:
            _warm_up(port, token, tickers[0])
            rss_before = tree_rss(server.pid)
            params = {
                "port": port,
                "token": token,
                "tickers": tickers,
                "symbols_per_client": options["symbols_per_client"],
                "wait": options["wait"],
                "handshakes": options["handshakes"],
                "client": options["client"],
            }
            fleet = ClientFleet.connect(params, options["clients"], options["client_processes"])
            opened, failed, connect_s = fleet.opened, fleet.failed, fleet.connect_s
            time.sleep(2)  # let the server settle before reading its memory
            rss_after = tree_rss(server.pid)

            marks: dict[str, float] = {}
            original_publish = publisher.publish

            def timed_publish(*args: Any, **kwargs: Any) -> int:
                marks["publish_start"] = time.time()
                try:
                    return original_publish(*args, **kwargs)
                finally:
                    marks["publish_end"] = time.time()

            cpu_before = tree_cpu_s(server.pid)
            fleet.go()
            publisher.publish = timed_publish
            try:
                cycle = run_pipeline_cycle(tickers, publish=True)
            finally:
                publisher.publish = original_publish
            results = fleet.results(options["wait"] + 120)
            # From GO until the clients have their updates and closed: nothing else ran.
            server_cpu_s = tree_cpu_s(server.pid) - cpu_before
        finally:
            if fleet is not None:
                fleet.kill()
            stop_server(server)

        received = sorted(t for r in results for t in r["received"])
        expected = sum(r["expected"] for r in results)
        start = marks.get("publish_start", cycle["wall_started_at"])
        delivery = [t - start for t in received]
        from_cycle = [t - cycle["wall_started_at"] for t in received]
        held = sum(r["still_open"] for r in results)
        return {
            "clients_requested": options["clients"],
            "clients_held": held,
            "clients_failed_to_connect": failed,
            "connect_failures_sample": [f for r in results for f in r["failures"]][:5],
            "memory_per_client_kb": round((rss_after - rss_before) / max(opened, 1) / 1024, 1),
            # CPU per client from GO until every client has its update AND has closed its
            # connection (the close handshakes are in it): latencies depend on what else runs,
            # CPU less so.
            "server_cpu_us_per_client": round(server_cpu_s / max(held, 1) * 1e6, 1),
            "client_cpu_us_per_update": round(
                sum(r["cpu_s"] for r in results) / max(len(received), 1) * 1e6, 1
            ),
            "server_rss_mb_before": round(rss_before / 2**20, 1),
            "server_rss_mb_after": round(rss_after / 2**20, 1),
            "delivery_p50_ms": ms(percentile(delivery, 50)),
            "delivery_p99_ms": ms(percentile(delivery, 99)),
            "delivery_max_ms": ms(delivery[-1] if delivery else None),
            "delivery_from_cycle_start_p50_ms": ms(percentile(from_cycle, 50)),
            "delivery_from_cycle_start_p99_ms": ms(percentile(from_cycle, 99)),
            "updates_expected": expected,
            "updates_delivered": len(received),
            "publish_ms": round((marks["publish_end"] - marks["publish_start"]) * 1000, 1)
            if "publish_end" in marks
            else None,
            "cycle": {
                "n_symbols": cycle["n_symbols"],
                "n_predicted": cycle["n_predicted"],
                "published_groups": cycle["published"],
                "stages_ms": cycle["stages_ms"],
                "errors": cycle["errors"],
            },
            "connect_all_s": round(connect_s, 1),
            "symbols_per_client": options["symbols_per_client"],
            "client_processes": len(results),
            "client": options["client"],
            "server": options["server"],
            "server_workers": workers,
            "uvicorn_ws": os.environ.get("BENCH_UVICORN_WS", RAW_FRAMES_WS),
            "uvicorn_ws_ping_s": os.environ.get("BENCH_UVICORN_PING") or 20,
            "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
            "fd_limit": fd_limit,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }


def _send_line(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdin is not None  # started with stdin=PIPE
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def _read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None  # started with stdout=PIPE
    return proc.stdout.readline()


def _warm_up(port: int, token: str, ticker: str) -> None:
    """One client in and out, so the server has imported and initialised everything."""

    async def once() -> None:
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{port}/ws/predictions?token={token}"
        async with connect(url, ping_interval=None, compression=None) as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbols": [ticker]}))
            await ws.recv()

    asyncio.run(once())
    time.sleep(1)


BENCHMARKS = [WsBenchmark]


if __name__ == "__main__" and "--clients-proc" in sys.argv:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    client_params = json.loads(sys.stdin.readline())
    from predictions.benchmarks.ws_client import client_main

    print(json.dumps(asyncio.run(client_main(client_params))), flush=True)
