"""``python manage.py bench api [--concurrency N] [--seconds S] --json``

Load on ``GET /api/prediction/{symbol}`` against a real ASGI server process, from a SEPARATE
load-generator process (asyncio, raw keep-alive HTTP/1.1 sockets, so the generator costs as little
CPU as possible on a machine it shares with the server), with an enterprise user's JWT (no
throttle). Two phases:

1. cache hits: every symbol's prediction is in Redis -> ``rps``, ``p50_ms``, ``p95_ms``,
   ``p99_ms`` (and the share of answers that really came from Redis);
2. fallback: every cached prediction deleted -> PostgreSQL -> ``fallback_p95_ms`` (and its rps).

Isolation: the benchmark re-runs itself in a child process whose database is
``stockpred_bench_api`` (created and migrated on demand) and whose Redis is ``BENCH_REDIS_URL``
(default db 5), so it never touches the shared development data. The data come from one real
pipeline cycle (``predictions.pipeline.cycle.run_cycle`` with the pipeline's toy contract models)
for 5,000 synthetic symbols.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.benchmarks import Benchmark
from core.ws_raw_frames import UVICORN_WS
from predictions import cache

if TYPE_CHECKING:
    from accounts.models import User

BENCH_DATABASE = "stockpred_bench_api"
BENCH_REDIS_DEFAULT = "redis://127.0.0.1:6379/5"
CHILD_FLAG = "BENCH_API_CHILD"
N_SYMBOLS = 5000
BENCH_DAY = "2025-07-08"
BASE_DIR = Path(__file__).resolve().parent.parent.parent
WORKER_HEALTHCHECK_S = os.environ.get("WEB_WORKER_HEALTHCHECK_S", "30")


# --- shared by the api and ws benchmarks ------------------------------------------------------


FD_WANTED = 262_144  # 50,000 WebSocket clients: a socket each in the server and the clients


def raise_fd_limit() -> int:
    """The open-file limit up to the hard limit; as root (which may raise the hard limit, up to
    the kernel's ``fs.nr_open``) up to ``FD_WANTED``. Child processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < FD_WANTED:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (FD_WANTED, FD_WANTED))
        except (ValueError, OSError):  # not root: the hard limit is the ceiling
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    elif soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_in_bench_child(
    name: str, options: dict[str, Any], argv: list[str], extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Re-run ``bench NAME`` with the bench database and Redis; return its figures."""
    env = {
        **os.environ,
        **(extra_env or {}),
        CHILD_FLAG: "1",
        "DATABASE_NAME": BENCH_DATABASE,
        "REDIS_URL": options.get("redis_url") or BENCH_REDIS_DEFAULT,
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, str(BASE_DIR / "manage.py"), "bench", name, "--json", *argv]
    proc = subprocess.run(cmd, env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench {name} child failed:\n{proc.stderr[-4000:]}")
    if proc.stderr.strip():  # the server's and workers' warnings, for the reader
        sys.stderr.write(proc.stderr[-6000:])
    figures: dict[str, Any] = json.loads(proc.stdout)
    for key in ("benchmark", "wall_s", "machine"):
        figures.pop(key, None)
    return figures


def in_bench_child() -> bool:
    return os.environ.get(CHILD_FLAG) == "1"


def bench_tickers(n: int = N_SYMBOLS) -> list[str]:
    return [f"B{i:04d}" for i in range(n)]


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def bench_user(tier: str = "enterprise") -> User:
    from accounts.models import User

    user, _ = User.objects.get_or_create(username=f"bench-{tier}", defaults={"tier": tier})
    if user.tier != tier:
        user.tier = tier
        user.save()
    return user


def access_token_for(user: User) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def run_pipeline_cycle(tickers: list[str], *, publish: bool = True) -> dict[str, Any]:
    """One real prediction cycle (toy contract models) for ``tickers``; returns its summary and
    the wall-clock time it started (for delivery latencies)."""
    import datetime as dt

    from django.conf import settings

    from predictions.benchmarks.universe import cycle_input, install_models, make_symbols
    from predictions.pipeline import runtime
    from predictions.pipeline.cycle import run_cycle

    make_symbols(tickers)
    runtime.clear_cache()
    install_models(Path(settings.VAR_DIR) / "bench" / "models")
    inp = cycle_input(dt.date.fromisoformat(BENCH_DAY), tickers)
    started = time.time()
    result, _ = run_cycle(inp, publish=publish, realise=False, record_status=False)
    return {**result.summary(), "wall_started_at": started}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


RAW_FRAMES_WS = "raw-frames"  # the Procfile's protocol (core.ws_raw_frames)


def uvicorn_ws(name: str) -> str:
    """uvicorn's ``--ws`` value for a bench's choice (uvicorn's own names pass through)."""
    return UVICORN_WS if name == RAW_FRAMES_WS else name


def start_server(kind: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    if kind == "uvicorn":
        cmd = [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level",
            "warning", "--ws", uvicorn_ws(os.environ.get("BENCH_UVICORN_WS", RAW_FRAMES_WS)),
            "--timeout-worker-healthcheck", WORKER_HEALTHCHECK_S,  # as worker/Procfile
        ]  # fmt: skip
        if os.environ.get("BENCH_UVICORN_PING"):  # seconds; uvicorn's default is 20
            ping = os.environ["BENCH_UVICORN_PING"]
            cmd += ["--ws-ping-interval", ping, "--ws-ping-timeout", ping]
    else:
        cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0",
               "config.asgi:application"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=os.environ.copy())
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"{kind} did not start listening on {port}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


# --- load generator (runs in its own process: python -m predictions.benchmarks.api) ----------


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[str, bytes]:
    """One request on a keep-alive connection: its status and X-Prediction-Source."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    source = b""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"x-prediction-source":
            source = value.strip()
    if length:
        await reader.readexactly(length)
    return head[9:12].decode(), source


@dataclass
class _Plan:
    port: int
    requests: list[bytes]
    warm_until: float
    deadline: float
    interval: float | None  # seconds between this connection's requests; None: closed loop


async def _connection(plan: _Plan, out: dict[str, Any]) -> None:
    """Closed loop (``interval`` None): the next request as soon as the answer is in. Open loop:
    one request every ``interval`` on a fixed schedule, latency counted from the scheduled time
    (a late answer delays the next send, and that wait counts: no coordinated omission). A
    broken connection counts one error and is reopened."""
    reader, writer = await asyncio.open_connection("127.0.0.1", plan.port)
    index = random.randrange(len(plan.requests))
    due = time.perf_counter() + (random.random() * plan.interval if plan.interval else 0.0)
    try:
        while True:
            if plan.interval is not None:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = due if plan.interval is not None else time.perf_counter()
            if time.perf_counter() >= plan.deadline:
                break
            index += 1
            try:
                status, source = await _exchange(
                    reader, writer, plan.requests[index % len(plan.requests)]
                )
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                writer.close()
                status, source = "err", b""
                reader, writer = await asyncio.open_connection("127.0.0.1", plan.port)
            done = time.perf_counter()
            due = due + plan.interval if plan.interval is not None else done
            if now < plan.warm_until:
                continue
            out["latencies"].append(done - now)
            out["status"][status] = out["status"].get(status, 0) + 1
            out["source"][source.decode()] = out["source"].get(source.decode(), 0) + 1
    finally:
        writer.close()


async def _load(port: int, token: str, tickers: list[str], concurrency: int, seconds: float,
                warmup: float, rate: float | None = None) -> dict[str, Any]:  # fmt: skip
    """``concurrency`` keep-alive connections; with ``rate``, open loop at that many requests
    per second in all."""
    requests = [
        (
            f"GET /api/prediction/{t} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        for t in tickers
    ]
    out: dict[str, Any] = {"latencies": [], "status": {}, "source": {}}
    start = time.perf_counter()
    interval = concurrency / rate if rate else None
    plan = _Plan(port, requests, start + warmup, start + warmup + seconds, interval)
    await asyncio.gather(*(_connection(plan, out) for _ in range(concurrency)))
    latencies = sorted(out["latencies"])
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "offered_rps": rate,
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else None),
        "errors": sum(n for status, n in out["status"].items() if status != "200"),
        "status": out["status"],
        "source": out["source"],
    }


def start_load_process(port: int, token: str, tickers: list[str], concurrency: int,
                       seconds: float, warmup: float,
                       rate: float | None = None) -> subprocess.Popen[str]:  # fmt: skip
    """The load generator in its own process (started, not waited for: ``finish_load``)."""
    args = json.dumps(
        {
            "port": port,
            "token": token,
            "tickers": tickers,
            "concurrency": concurrency,
            "seconds": seconds,
            "warmup": warmup,
            "rate": rate,
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "predictions.benchmarks.api", "--loadgen"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BASE_DIR,
    )  # fmt: skip
    assert proc.stdin is not None  # started with stdin=PIPE
    proc.stdin.write(args)
    proc.stdin.close()
    proc.stdin = None  # communicate() must not flush it again
    return proc


def finish_load(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    figures: dict[str, Any] = json.loads(out)
    return figures


def run_load_process(port: int, token: str, tickers: list[str], concurrency: int,
                     seconds: float, warmup: float) -> dict[str, Any]:  # fmt: skip
    proc = start_load_process(port, token, tickers, concurrency, seconds, warmup)
    return finish_load(proc, seconds + warmup + 120)


# --- the benchmark -----------------------------------------------------------------------------


class ApiBenchmark(Benchmark):
    name = "api"
    help = "Requests/s and latency of GET /api/prediction/{symbol} (cache hits and fallback)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--concurrency", type=int, default=8, help="Keep-alive connections")
        parser.add_argument("--seconds", type=float, default=20.0, help="Measured seconds")
        parser.add_argument("--fallback-seconds", type=float, default=8.0)
        parser.add_argument("--warmup", type=float, default=2.0)
        parser.add_argument("--server", choices=["daphne", "uvicorn"], default=default_server())
        parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
        parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        if not in_bench_child():
            argv = [
                "--concurrency", str(options["concurrency"]), "--seconds", str(options["seconds"]),
                "--fallback-seconds", str(options["fallback_seconds"]),
                "--warmup", str(options["warmup"]), "--server", options["server"],
                "--workers", str(options["workers"]),
            ]  # fmt: skip
            return run_in_bench_child(self.name, options, argv)
        return self._run(options)

    def _run(self, options: dict[str, Any]) -> dict[str, Any]:
        import redis
        from django.conf import settings

        raise_fd_limit()
        load_before = os.getloadavg()
        prepare_database()
        tickers = bench_tickers()
        cycle = run_pipeline_cycle(tickers, publish=False)
        token = access_token_for(bench_user("enterprise"))
        client = redis.Redis.from_url(settings.REDIS_URL)
        server = options["server"]
        workers = options["workers"] if server == "uvicorn" else 1
        port = free_port()
        proc = start_server(server, port, workers)
        try:
            concurrency = options["concurrency"]
            # Keep the 120 s TTL keys alive whatever the run length.
            for ticker in tickers:
                client.expire(cache.pred_key(ticker), 3600)
            hits = run_load_process(
                port, token, tickers, concurrency, options["seconds"], options["warmup"]
            )
            deleted = client.delete(*[cache.pred_key(t) for t in tickers])
            fallback = run_load_process(
                port, token, tickers, concurrency, options["fallback_seconds"], options["warmup"]
            )
        finally:
            stop_server(proc)
        return {
            "rps": hits["rps"],
            "p50_ms": hits["p50_ms"],
            "p95_ms": hits["p95_ms"],
            "p99_ms": hits["p99_ms"],
            "fallback_p95_ms": fallback["p95_ms"],
            "fallback_p50_ms": fallback["p50_ms"],
            "fallback_rps": fallback["rps"],
            "cache_hits": hits,
            "fallback": {**fallback, "redis_keys_deleted": deleted},
            "server": server,
            "server_workers": workers,
            "concurrency": concurrency,
            "seconds": options["seconds"],
            "symbols": len(tickers),
            "data": f"one pipeline cycle (toy contract models), {cycle['n_predicted']} predictions",
            "load_generator": "separate process, asyncio raw HTTP/1.1 keep-alive sockets",
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }


def default_server() -> str:
    """The server of worker/Procfile's ``web:`` line."""
    try:
        procfile = (BASE_DIR / "worker" / "Procfile").read_text()
    except OSError:
        return "daphne"
    web = next((line for line in procfile.splitlines() if line.startswith("web:")), "")
    return "uvicorn" if "uvicorn" in web else "daphne"


BENCHMARKS = [ApiBenchmark]


if __name__ == "__main__" and "--loadgen" in sys.argv:
    params = json.loads(sys.stdin.read())
    result = asyncio.run(
        _load(
            params["port"],
            params["token"],
            params["tickers"],
            params["concurrency"],
            params["seconds"],
            params["warmup"],
            params.get("rate"),
        )
    )
    print(json.dumps(result))
