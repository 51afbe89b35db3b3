"""``bench mixed``: everything at once on one machine, as the platform runs.

The platform's own processes (``runner.session``: the web server with its uvicorn workers, the
``ingest,features`` and ``inference`` workers, beat driving the replay at one cycle a second over
5,000 symbols with the 5- and 20-day models active) and, once the first cycle is out, for
``--seconds``:
- ``--ws-clients`` WebSocket clients (``predictions.benchmarks.ws``'s client processes), one
  symbol each, recording the receipt time of every update;
- the API load generator (``predictions.benchmarks.api``'s, in its own process) at a fixed
  offered rate, open loop: latency counts from each request's scheduled time.

Figures (``docs/performance.md``):
- ``api_*``: what the load generator measured (errors: non-200 answers and broken connections);
- ``cycle_*``: per trading day the chain served in the window, from the live ingestion's start
  (beat's tick, on the ingest worker) to the end of the prediction cycle (``PipelineRun``);
- ``ws_delivery_*``: each update's receipt minus the start of its cycle's publish step (the
  ``PipelineRun``'s start plus its route, inference and Redis-write stages, which precede the
  publish in the cycle) and minus the start of its cycle (the ingestion's start);
- ``cpu_share``: CPU seconds of each process group over the window, as a share of the machine's
  (cores x window).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

import psutil

from ops.faultbench import runner

DELIVERY_WAIT_S = 5.0  # after the window: the last cycles' updates still arrive


def _tree_cpu(pid: int, children: bool = True) -> dict[int, float]:
    """CPU seconds (user + system) of a process and its descendants, by pid; with ``children``
    also, under minus each one's pid, what its reaped children used: a PostgreSQL backend that
    served one realise or one request ends inside the window, and its time is then the
    postmaster's (without it `bench mixed` counted 1-2 CPU-s of PostgreSQL a minute)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *(root.children(recursive=True) if children else [])]
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[proc.pid] = times.user + times.system
        if children:
            out[-proc.pid] = times.children_user + times.children_system
    return out


def _postmaster_pid() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    try:
        return int(psutil.Process(backend).ppid())
    except psutil.NoSuchProcess:  # a remote server: its CPU is not this machine's
        return None


def _groups(s: runner.Session, extra: dict[str, list[int]]) -> dict[str, list[int]]:
    groups = {name: [proc.pid] for name, proc in s.stack.procs.items()}
    if s.stack.redis_proc is not None:
        groups["redis"] = [s.stack.redis_proc.pid]
    postmaster = _postmaster_pid()
    if postmaster is not None:
        groups["postgres"] = [postmaster]
    groups["bench"] = [os.getpid()]  # alone: every other group is its child
    return {**groups, **extra}


def _cpu(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {
        name: {k: v for pid in pids for k, v in _tree_cpu(pid, name != "bench").items()}
        for name, pids in groups.items()
    }


def cpu_share(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], seconds: float
) -> dict[str, Any]:
    """CPU seconds per group over the window and its share of the machine's CPU time. A process
    that ended inside the window was reaped by its parent in the group, whose children's time
    (``_tree_cpu``) now holds all of its time: what it had used before the window is taken off
    again. ``bench`` is this process (the WebSocket clients and the API load run in their own)."""
    capacity = (os.cpu_count() or 1) * seconds
    used = {name: _used(before.get(name, {}), procs) for name, procs in after.items()}
    return {
        "cores": os.cpu_count(),
        "window_s": round(seconds, 1),
        "cpu_s": {name: round(v, 1) for name, v in used.items()},
        "share": {name: round(v / capacity, 3) for name, v in used.items()},
        "total_share": round(sum(used.values()) / capacity, 3),
    }


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    grown = sum(t - before.get(key, 0.0) for key, t in after.items())
    ended = sum(t for key, t in before.items() if key > 0 and key not in after)
    return max(grown - ended, 0.0)


def _cycles(since: dt.datetime, until: dt.datetime) -> dict[str, dict[str, float]]:
    """Per trading day whose prediction cycle ended in the window: the epoch seconds its
    ingestion started, its publish step started and its cycle ended."""
    from ingestion.models import IngestionRun
    from predictions.models import PipelineRun

    runs = PipelineRun.objects.filter(finished_at__gte=since, finished_at__lte=until, ok=True)
    out: dict[str, dict[str, float]] = {}
    for run in runs:
        day = run.data_date.isoformat()
        ingest = (
            IngestionRun.objects.filter(mode=IngestionRun.Mode.LIVE, params__date=day)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        ms = run.stages_ms
        before_publish = sum(ms.get(k, 0.0) for k in ("route", "inference", "write_redis"))
        out[day] = {
            "ingest_started": (ingest or run.started_at).timestamp(),
            "publish_started": run.started_at.timestamp() + before_publish / 1000,
            "finished": run.finished_at.timestamp(),
        }
    return out


def _pct(values: list[float], q: float) -> float | None:
    from predictions.benchmarks.api import percentile

    return None if not values else round(percentile(sorted(values), q) * 1000, 1)  # type: ignore[operator]


def delivery(results: list[dict[str, Any]], cycles: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Delivery latencies of the updates of the cycles measured (others are not counted)."""
    from_publish: list[float] = []
    from_cycle: list[float] = []
    other = 0
    for result in results:
        for day, times in result["received_by_day"].items():
            cycle = cycles.get(day)
            if cycle is None:
                other += len(times)
                continue
            from_publish += [t - cycle["publish_started"] for t in times]
            from_cycle += [t - cycle["ingest_started"] for t in times]
    return {
        "ws_delivery_p50_ms": _pct(from_publish, 50),
        "ws_delivery_p99_ms": _pct(from_publish, 99),
        "ws_delivery_from_cycle_p50_ms": _pct(from_cycle, 50),
        "ws_delivery_from_cycle_p99_ms": _pct(from_cycle, 99),
        "ws_updates_measured": len(from_publish),
        "ws_updates_of_other_cycles": other,
    }


def cycle_figures(cycles: dict[str, dict[str, float]]) -> dict[str, Any]:
    spans = [c["finished"] - c["ingest_started"] for c in cycles.values()]
    return {
        "cycles": len(spans),
        "cycle_p50_ms": _pct(spans, 50),
        "cycle_p95_ms": _pct(spans, 95),
        "cycle_max_ms": _pct(spans, 100),
    }


def _options(options: dict[str, Any]) -> runner.SessionOptions:
    # The session's light reconnecting clients stay off: ours are the fleet.
    return runner.SessionOptions.of(options, ws_clients=0, horizons=not options["no_horizons"])


def _window(s: runner.Session, options: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket fleet connected (clock paused), then everything for ``--seconds``."""
    from predictions.benchmarks.api import finish_load, start_load_process
    from predictions.benchmarks.ws import ClientFleet

    seconds = options["seconds"]
    params = {
        "port": s.stack.web_port,
        "token": s.world.token,
        "tickers": s.world.tickers,
        "symbols_per_client": 1,
        "wait": seconds + DELIVERY_WAIT_S,
        "stream": True,
        "client": options["ws_client"],
    }
    s.stack.pause("beat")  # no replay days spent while 10,000 clients connect
    try:
        fleet = ClientFleet.connect(params, options["ws_clients"], options["ws_processes"])
    finally:
        s.stack.resume("beat")
    try:
        api = start_load_process(
            s.stack.web_port, s.world.token, s.world.tickers, options["api_connections"],
            seconds, 0.0, rate=options["api_rate"],
        )  # fmt: skip
        groups = _groups(s, {"api_load": [api.pid], "ws_clients": [p.pid for p in fleet.procs]})
        fleet.go()
        since, cpu0, load0 = dt.datetime.now(dt.UTC), _cpu(groups), os.getloadavg()
        time.sleep(seconds)
        until, cpu1 = dt.datetime.now(dt.UTC), _cpu(groups)
        api_figures = finish_load(api, 120)
        results = fleet.results(DELIVERY_WAIT_S + 120)
    finally:
        fleet.kill()
    return {
        "since": since,
        "until": until,
        "api": api_figures,
        "ws_results": results,
        "ws_connect_s": round(fleet.connect_s, 1),
        "ws_failed_to_connect": fleet.failed,
        "cpu": cpu_share(cpu0, cpu1, (until - since).total_seconds()),
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def run_mixed(options: dict[str, Any]) -> dict[str, Any]:
    from ops.faultbench import accounting
    from ops.faultbench.stack import wait_until
    from predictions.benchmarks.api import raise_fd_limit

    fd_limit = raise_fd_limit()
    started = time.monotonic()
    with runner.session(_options(options)) as s:
        setup_s = time.monotonic() - started
        t = time.time()
        warm_up_s = wait_until(lambda: accounting.first_prediction_after(t - 3600), 300, "warm-up")
        w = _window(s, options)
        cycles = _cycles(w["since"], w["until"])
        logs = str(s.stack.logs)
    api = w["api"]
    held = sum(r["still_open"] for r in w["ws_results"])
    return {
        "api_rps": api["rps"],
        "api_offered_rps": options["api_rate"],
        "api_p50_ms": api["p50_ms"],
        "api_p95_ms": api["p95_ms"],
        "api_p99_ms": api["p99_ms"],
        "api_errors": api["errors"],
        "api": api,
        "ws_clients": options["ws_clients"],
        "ws_clients_held": held,
        "ws_client": options["ws_client"],
        "ws_failed_to_connect": w["ws_failed_to_connect"],
        **delivery(w["ws_results"], cycles),
        **cycle_figures(cycles),
        "cpu_share": w["cpu"],
        "seconds": options["seconds"],
        "symbols": len(s.world.tickers),
        "period_s": options["period"],
        "horizons": not options["no_horizons"],
        "ws_connect_s": w["ws_connect_s"],
        "setup_s": round(setup_s, 1),
        "warm_up_s": round(warm_up_s, 1),
        "fd_limit": fd_limit,
        "loadavg_before": w["loadavg_before"],
        "loadavg_after": w["loadavg_after"],
        "logs": logs,
    }
