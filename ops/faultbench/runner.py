"""One bench session: scratch database + private Redis, the platform's processes with load
attached, and what happens to the live cycle during each fault."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import override_settings

from ops.faultbench import accounting
from ops.faultbench.injectors import FAULTS
from ops.faultbench.load import ApiLoad, WsClients
from ops.faultbench.stack import Stack, wait_until
from ops.faultbench.world import World, build, replay_env

PROCESSES = ("ingest", "inference", "beat", "web")


@dataclass
class Session:
    stack: Stack
    world: World
    api: ApiLoad
    ws: WsClients
    seen_days: set[str] = field(default_factory=set)


@dataclass
class SessionOptions:
    name: str  # bench name: work directory and scratch database
    symbols: int
    history: int
    replay_days: int
    period_s: float
    api_rate: float
    ws_clients: int
    horizons: bool = False  # the 5- and 20-day models active too

    @classmethod
    def of(cls, options: dict[str, Any], **overrides: Any) -> SessionOptions:
        """From a whole-platform bench's options (``ops.benchmarks``): every day the file has
        after the history is replayed."""
        fields: dict[str, Any] = {
            "name": options["name"],
            "symbols": options["symbols"],
            "history": options["history"],
            "replay_days": 0,
            "period_s": options["period"],
            "api_rate": options["api_rate"],
            "ws_clients": options["ws_clients"],
        }
        return cls(**{**fields, **overrides})


@contextlib.contextmanager
def session(opts: SessionOptions) -> Iterator[Session]:
    """Everything up (and torn down afterwards, whatever happens)."""
    from predictions.replay import scratch_database

    workdir = Path(settings.VAR_DIR) / "bench" / opts.name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    database = f"bench_{opts.name}"
    with scratch_database(database):
        world = build(workdir, opts.symbols, opts.history, opts.replay_days, horizons=opts.horizons)
        stack = Stack(workdir, database, replay_env(world, opts.period_s))
        api = ApiLoad(stack.web_port, world.token, world.tickers, opts.api_rate)
        ws = WsClients(stack.web_port, world.token, world.tickers, opts.ws_clients)
        try:
            stack.start_redis()
            with override_settings(REDIS_URL=stack.redis_url):
                for name in PROCESSES:
                    stack.start(name)
                yield Session(stack, world, api, ws)
        finally:
            api.stop()
            ws.stop()
            stack.stop_all()


def warm_up(s: Session, timeout: float) -> float:
    """Until the first cycle's predictions are stored (the cold feature engine builds from the
    stored history first); then the load starts."""
    started = time.time()
    took = wait_until(lambda: accounting.first_prediction_after(started - 3600), timeout, "warm-up")
    s.api.start()
    s.ws.start()
    return took


def wait_cycles(after: int, n: int, timeout: float) -> int:
    """Until ``n`` successful live runs came after run ``after`` (or ``timeout``): how many."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if len(accounting.live_days(after)) >= n:
            break
        time.sleep(0.25)
    return len(accounting.live_days(after))


def recovery(fault_end_wall: float, timeout: float) -> float | None:
    """Seconds from the end of the fault to the first prediction stored after it."""
    try:
        return round(
            wait_until(lambda: accounting.first_prediction_after(fault_end_wall), timeout, "a "
                       "fresh prediction", 0.1), 2)  # fmt: skip
    except TimeoutError:
        return None


def run_fault(s: Session, name: str, cycles: int) -> dict[str, Any]:
    mark = accounting.last_live_run()
    t0 = time.monotonic()
    timeout = max(60.0, cycles * 6.0)
    wait_cycles(mark, max(1, cycles // 3), timeout)
    details = FAULTS[name](s.stack)
    recovery_s = recovery(time.time(), 120.0)
    wait_cycles(mark, cycles, timeout)
    end = accounting.last_live_run()
    t1 = time.monotonic()
    days = accounting.live_days(mark, end)
    # The clock pauses while the last cycles' predictions land, so waiting costs no replay
    # days (the file has a few hundred after the history; a wrap would re-emit counted days).
    s.stack.pause("beat")
    try:
        settle_s = accounting.settle(days, s.stack.idle, 900.0)
    finally:
        s.stack.resume("beat")
    counts = accounting.account(days)
    wrapped = bool(s.seen_days & set(days))
    s.seen_days.update(days)
    api = s.api.window(t0, t1)
    ws = s.ws.window(t0, time.monotonic())
    return {
        "name": name,
        "cycles": len(days),
        **counts,
        "api_requests": api.requests,
        "api_5xx": api.server_errors,
        "api_unreachable": api.unreachable,
        "api_other_status": api.other,
        "api_sources": api.sources,
        "recovery_s": recovery_s,
        "ws_reconnected": ws["reconnected"] == ws["dropped"]
        and ws["connected_at_end"] == ws["clients"],
        "ws": ws,
        "replay_wrapped": wrapped,  # a day counted twice: the figures would flatter
        "settle_s": round(settle_s, 1),
        "window_s": round(t1 - t0, 1),
        "fault": details,
    }
