"""``bench soak``: the platform's processes replaying at full speed with the API and WebSocket
load attached, for
``--minutes`` after a warm-up. Figures: resident memory of each process tree (the worker with its
pool child, uvicorn with its workers) after the warm-up and at the end, its growth, error lines
in each log, queue depths (sampled every 5 s), cycles and API outcomes.

Full speed is the chain's own pace: a driver sends the next live cycle as soon as the last one
has gone through (every queue empty, nothing unacknowledged), so no backlog builds up (a clock
faster than inference would only grow the inference queue, and its features would expire).
Beat runs too, with a period of an hour, so its memory is measured like the others'."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import psutil
import redis
from celery import Celery

from features import handoff
from ops.faultbench import accounting, runner
from ops.faultbench.stack import Stack

GROWTH_TARGET_PCT = 10.0
SAMPLE_S = 5.0
ERROR_MARKERS = (" ERROR ", " CRITICAL ", "Traceback (most recent call last)")


def tree_rss_mb(pid: int, children: bool = True) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *(root.children(recursive=True) if children else [])]
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
        # The server alone: an append-only-file rewrite forks a child for a few seconds.
        out["redis"] = tree_rss_mb(stack.redis_proc.pid, children=False)
    return out


def redis_used_mb(stack: Stack) -> float:
    """What Redis holds (keys, queues), apart from its allocator's slack."""
    return round(int(stack.redis().info("memory")["used_memory"]) / 2**20, 1)


def key_family(key: bytes) -> str:
    """``pred:AAPL`` -> ``pred:``; ``celery-task-meta-<id>`` -> ``celery-task-meta-``."""
    text = key.decode(errors="replace")
    for stem in ("celery-task-meta-", "_kombu.binding.", handoff.MATRIX_KEY.format("")):
        if text.startswith(stem):
            return stem
    return text.split(":", 1)[0] + ":" if ":" in text else text


def redis_mb_by_family(client: redis.Redis, batch: int = 1000) -> dict[str, dict[str, float]]:
    """Keys and MB (``MEMORY USAGE``) per key family, largest first: which data grows."""
    sizes: dict[str, list[float]] = {}
    keys = list(client.scan_iter(count=batch))
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key)
        for key, used in zip(chunk, pipe.execute(), strict=True):
            entry = sizes.setdefault(key_family(key), [0, 0.0])
            entry[0] += 1
            entry[1] += (used or 0) / 2**20
    ranked = sorted(sizes.items(), key=lambda item: -item[1][1])
    return {name: {"keys": int(n), "mb": round(mb, 1)} for name, (n, mb) in ranked}


def error_lines(logs: Path) -> dict[str, int]:
    counts = {}
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace")
        counts[path.stem] = sum(text.count(marker) for marker in ERROR_MARKERS)
    return counts


def _observe(s: runner.Session, seconds: float) -> dict[str, dict[str, int]]:
    """Drive the cycles for ``seconds``; queue depths every SAMPLE_S: max and last per queue."""
    app = Celery("soak-driver", broker=s.stack.redis_url)
    depth_max: dict[str, int] = {}
    last: dict[str, int] = {}
    started = time.monotonic()
    sampled = 0.0
    while time.monotonic() - started < seconds:
        with contextlib.suppress(Exception):  # a busy Redis costs a poll, not the run
            if s.stack.idle():
                app.send_task("ingestion.tasks.live_cycle", queue="ingest")
            if time.monotonic() - sampled >= SAMPLE_S:
                sampled, last = time.monotonic(), s.stack.queue_depths()
                for queue, depth in last.items():
                    depth_max[queue] = max(depth_max.get(queue, 0), depth)
        time.sleep(0.1)
    return {"max": depth_max, "end": last}


def run_soak(options: dict[str, Any]) -> dict[str, Any]:
    opts = runner.SessionOptions.of(options)
    with runner.session(opts) as s:
        s.api.start()
        s.ws.start()
        _observe(s, options["warmup_minutes"] * 60)  # the cold feature engine builds here
        rss_warm, errors_warm = rss(s.stack), error_lines(s.stack.logs)
        used_warm, families_warm = redis_used_mb(s.stack), redis_mb_by_family(s.stack.redis())
        mark, t0 = accounting.last_live_run(), time.monotonic()
        queues = _observe(s, options["minutes"] * 60)
        rss_end, errors_end = rss(s.stack), error_lines(s.stack.logs)
        used_end, families_end = redis_used_mb(s.stack), redis_mb_by_family(s.stack.redis())
        t1 = time.monotonic()
        cycles = accounting.last_live_run() - mark  # live runs, ok or not
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
        "redis_used_mb": {"after_warmup": used_warm, "end": used_end},
        "redis_by_key_family": {"after_warmup": families_warm, "end": families_end},
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
