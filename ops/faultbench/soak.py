"""``bench soak``: the platform's processes replaying at full speed (beat period 0.2 s; a cycle
that finds the last one still running is skipped) with the API and WebSocket load attached, for
``--minutes`` after a warm-up. Figures: resident memory of each process tree (the worker with its
pool child, uvicorn with its workers) after the warm-up and at the end, its growth, error lines
in each log, queue depths (sampled every 5 s), cycles and API outcomes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil

from ops.faultbench import accounting, runner
from ops.faultbench.stack import Stack

GROWTH_TARGET_PCT = 10.0
SAMPLE_S = 5.0
ERROR_MARKERS = (" ERROR ", " CRITICAL ", "Traceback (most recent call last)")


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return round(total / 2**20, 1)


def rss(stack: Stack) -> dict[str, float]:
    out = {name: tree_rss_mb(proc.pid) for name, proc in stack.procs.items()}
    if stack.redis_proc is not None:
        out["redis"] = tree_rss_mb(stack.redis_proc.pid)
    return out


def error_lines(logs: Path) -> dict[str, int]:
    counts = {}
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace")
        counts[path.stem] = sum(text.count(marker) for marker in ERROR_MARKERS)
    return counts


def _observe(s: runner.Session, seconds: float) -> dict[str, dict[str, int]]:
    """Queue depths every SAMPLE_S for ``seconds``: max and last per queue."""
    depth_max: dict[str, int] = {}
    last: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            last = s.stack.queue_depths()
        except Exception:  # noqa: BLE001 - a sample lost to a busy Redis is not a figure
            last = last or {}
        for queue, depth in last.items():
            depth_max[queue] = max(depth_max.get(queue, 0), depth)
        time.sleep(min(SAMPLE_S, max(0.0, deadline - time.monotonic())))
    return {"max": depth_max, "end": last}


def run_soak(options: dict[str, Any]) -> dict[str, Any]:
    opts = runner.SessionOptions(
        name="soak",
        symbols=options["symbols"],
        history=options["history"],
        replay_days=0,
        period_s=options["period"],
        api_rate=options["api_rate"],
        ws_clients=options["ws_clients"],
    )
    with runner.session(opts) as s:
        runner.warm_up(s, 300.0)
        time.sleep(options["warmup_minutes"] * 60)
        rss_warm, errors_warm = rss(s.stack), error_lines(s.stack.logs)
        mark, t0 = accounting.last_live_run(), time.monotonic()
        queues = _observe(s, options["minutes"] * 60)
        rss_end, errors_end = rss(s.stack), error_lines(s.stack.logs)
        t1 = time.monotonic()
        cycles = len(accounting.live_days(mark))
        api, ws = s.api.window(t0, t1), s.ws.window(t0, t1)
    growth = {
        name: round((rss_end.get(name, 0.0) - mb) / mb * 100, 1) if mb else None
        for name, mb in rss_warm.items()
    }
    return {
        "minutes": options["minutes"],
        "warmup_minutes": options["warmup_minutes"],
        "symbols": len(s.world.tickers),
        "cycles": cycles,
        "cycles_per_min": round(cycles / max((t1 - t0) / 60, 1e-9), 1),
        "rss_mb_after_warmup": rss_warm,
        "rss_mb_end": rss_end,
        "growth_pct": growth,
        "pass": all(g is not None and g < GROWTH_TARGET_PCT for g in growth.values()),
        "error_lines": {k: errors_end[k] - errors_warm.get(k, 0) for k in errors_end},
        "error_lines_total": errors_end,
        "queue_depths": queues,
        "api": {
            "requests": api.requests,
            "5xx": api.server_errors,
            "unreachable": api.unreachable,
            "sources": api.sources,
        },
        "ws": ws,
        "logs": str(s.stack.logs),
    }
