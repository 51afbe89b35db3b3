"""A niced process stays niced against other sessions' processes.

With the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled`` = 1, the
default of desktop and many server kernels) CPU time is shared first between sessions, equally
unless the session's autogroup is niced, and only then by nice value inside a session. The runner
(``make run``) starts every Procfile process in a session of its own, so ``nice -n 15`` on the
index worker alone changed nothing: measured here, two ``nice -n 15`` busy loops got as much CPU
as two un-niced ones (13.8 M vs 13.3 M iterations in 6 s); with their autogroups niced to 15
they got 5% of it (1.1 M vs 23.7 M). A niced Celery worker therefore gives its autogroup its
own nice value when it starts (``worker_init``, core/apps.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")


def autogroup_nice(path: Path = AUTOGROUP) -> int | None:
    """The nice value of this process's autogroup (None: no autogroup scheduling here)."""
    try:
        match = re.search(r"nice\s+(-?\d+)", path.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def nice_autogroup(path: Path = AUTOGROUP) -> int | None:
    """Raise this session's autogroup nice value to the process's own; returns the value set
    (None: the process is not niced, or the kernel has no autogroups)."""
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    current = autogroup_nice(path)
    if niceness <= 0 or current is None:
        return None
    if current < niceness:
        try:
            path.write_text(str(niceness))
        except OSError:  # autogroup scheduling disabled, or not permitted
            return None
    return niceness
