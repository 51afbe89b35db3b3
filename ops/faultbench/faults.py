"""``bench faults``: the session up, warm-up, then each fault in turn (see ``runner``)."""

from __future__ import annotations

import time
from typing import Any

from ops.faultbench import runner
from ops.faultbench.injectors import FAULTS

API_5XX_TARGET = 0.01
RECOVERY_TARGET_S = 30.0


def run_faults(options: dict[str, Any]) -> dict[str, Any]:
    names = [n.strip() for n in options["faults"].split(",") if n.strip()]
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise SystemExit(f"unknown faults {unknown}; known: {sorted(FAULTS)}")
    cycles = options["cycles"]
    opts = runner.SessionOptions.of(options)
    started = time.monotonic()
    with runner.session(opts) as s:
        setup_s = time.monotonic() - started
        warm_up_s = runner.warm_up(s, 300.0)
        faults = [runner.run_fault(s, name, cycles) for name in names]
        logs = s.stack.logs
    return {
        "faults": faults,
        "lost_total": sum(f["lost"] for f in faults),
        "replay_wrapped": any(f["replay_wrapped"] for f in faults),
        "duplicates_total": sum(f["duplicates"] for f in faults),
        "targets_met": _targets(faults),
        "symbols": len(s.world.tickers),
        "replay_days": s.world.days,
        "filled_bars": s.world.filled_bars,
        "period_s": options["period"],
        "setup_s": round(setup_s, 1),
        "backfill_s": s.world.backfill_s,
        "warm_up_s": round(warm_up_s, 1),
        "logs": str(logs),
    }


def _targets(faults: list[dict[str, Any]]) -> dict[str, bool]:
    return {
        "lost_total_0": all(f["lost"] == 0 for f in faults),
        "duplicates_total_0": all(f["duplicates"] == 0 for f in faults),
        "api_5xx_under_1pct": all(
            f["api_5xx"] < API_5XX_TARGET * max(f["api_requests"], 1) for f in faults
        ),
        "recovery_under_30s": all(
            f["recovery_s"] is not None and f["recovery_s"] <= RECOVERY_TARGET_S for f in faults
        ),
    }
