"""Fault-injection points for the fault tests (off unless ``PIPELINE_FAILPOINTS`` is set).

``PIPELINE_FAILPOINTS="after_write_postgres=30"`` makes the cycle sleep 30 s right after its
PostgreSQL commit, so a test can kill -9 the worker at the worst moment (rows written, message
not yet acknowledged) and prove the redelivered run adds no duplicates. Read from the process
environment on each call; never set in production.
"""

from __future__ import annotations

import os
import time


def pause(name: str) -> None:
    spec = os.environ.get("PIPELINE_FAILPOINTS", "")
    if not spec:
        return
    for item in spec.split(","):
        point, _, seconds = item.partition("=")
        if point.strip() == name:
            time.sleep(float(seconds or 0))
