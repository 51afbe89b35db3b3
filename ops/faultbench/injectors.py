"""The faults, one function each: it breaks something, waits as long as the fault lasts, puts
it back the way an operator or a supervisor would, and returns when the fault is over.

- ``inference_kill``: kill -9 of the whole inference worker (main process and pool child) the
  moment it holds a batch (its message is in the broker's unacked hash, not acknowledged), then
  the supervisor starts it again;
- ``redis_stop``: the private redis-server stopped for ``REDIS_DOWN_S`` and started again (its
  append-only file reloaded);
- ``postgres_restart``: the embedded PostgreSQL stopped (fast mode: sessions cut) and started;
- ``web_kill`` / ``beat_kill``: kill -9 of the web server (uvicorn and its workers) or beat,
  then started again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

from ops.faultbench.stack import BASE_DIR, Stack, wait_until

REDIS_DOWN_S = 10.0


def _inference_holds_a_batch(stack: Stack) -> bool:
    client = stack.redis(1.0)
    for raw in client.hvals("unacked"):
        _payload, _exchange, routing_key = json.loads(raw)
        if routing_key == "inference":
            return True
    return False


def inference_kill(stack: Stack) -> dict[str, float]:
    waited = wait_until(lambda: _inference_holds_a_batch(stack), 60, "an inference batch", 0.02)
    stack.kill("inference")
    stack.start("inference")
    return {"waited_for_batch_s": round(waited, 2)}


def redis_stop(stack: Stack) -> dict[str, float]:
    stack.stop_redis()
    time.sleep(REDIS_DOWN_S)
    stack.start_redis()
    return {"down_s": REDIS_DOWN_S}


def postgres_restart(stack: Stack) -> dict[str, float]:
    from django.db import connection

    started = time.monotonic()
    # The embedded server's own commands (apps never import config): stop, then start again.
    for action in ("stop", "start"):
        subprocess.run(
            [sys.executable, "-m", "config.embedded_db", action],
            cwd=BASE_DIR,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    connection.close()
    return {"down_s": round(time.monotonic() - started, 2)}


def web_kill(stack: Stack) -> dict[str, float]:
    started = time.monotonic()
    stack.kill("web")
    # kill -9 reaches every uvicorn process, but the kernel closes the listening socket only
    # once the last of them is gone.
    wait_until(stack.web_closed, 30, "the web server's socket to close")
    stack.start("web")  # returns once it answers HTTP again
    return {"down_s": round(time.monotonic() - started, 2)}


def beat_kill(stack: Stack) -> dict[str, float]:
    stack.kill("beat")
    stack.start("beat")
    return {}


FAULTS: dict[str, Callable[[Stack], dict[str, float]]] = {
    "inference_kill": inference_kill,
    "redis_stop": redis_stop,
    "postgres_restart": postgres_restart,
    "web_kill": web_kill,
    "beat_kill": beat_kill,
}
