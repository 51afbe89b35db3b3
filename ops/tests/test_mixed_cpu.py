"""``bench mixed``'s CPU seconds per process group: processes that end inside the window (a
PostgreSQL backend per realise or request) count by their time in it."""

from __future__ import annotations

import os
import subprocess
import sys

from ops.faultbench.mixed import _tree_cpu, _used, cpu_share

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"


def test_it_counts_a_process_that_ended_inside_the_window_by_its_time_in_it() -> None:
    # parent 10 used 1 s in the window; child 11 had used 2 s before and 1.5 s in it, then ended
    # and was reaped by 10, whose children's time (key -10) now holds its 3.5 s
    before = {10: 5.0, -10: 0.0, 11: 2.0}
    after = {10: 6.0, -10: 3.5}
    assert _used(before, after) == 2.5
    share = cpu_share({"postgres": before}, {"postgres": after}, 10.0)
    assert share["cpu_s"]["postgres"] == 2.5


def test_it_sees_the_time_of_children_that_started_and_ended_in_the_window() -> None:
    before = _tree_cpu(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    after = _tree_cpu(os.getpid())
    assert _used(before, after) >= 0.3
    assert _used(before, _tree_cpu(os.getpid(), children=False)) < 0.3  # without: not seen
