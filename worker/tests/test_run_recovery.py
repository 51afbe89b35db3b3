"""A runner killed with SIGKILL takes its processes with it, and the next start cleans up."""

from __future__ import annotations

import os
import signal
import time

import pytest

from worker.tests.conftest import STUBBORN

pytestmark = pytest.mark.slow


def wait_for_survivors(world, at_most: int, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(world.survivors()) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return world.survivors()


def test_it_recovers_after_the_runner_is_killed(runner_world):
    runner_world.procfile.write_text(runner_world.procfile.read_text() + STUBBORN)
    first = runner_world.start_ready(expected=6)

    os.kill(first.pid, signal.SIGKILL)
    first.wait_exit()

    # The kernel's parent-death signal stops everything but the process that ignores it.
    survivors = wait_for_survivors(runner_world, at_most=1)
    assert [s.split()[1] for s in survivors] == ["stubborn"]
    assert runner_world.database_running()  # nobody stopped it: the next start adopts it

    second = runner_world.start_ready(expected=6)
    assert "ending 1 leftover processes of an earlier run: stubborn" in second.text
    assert "embedded PostgreSQL reused (0 other users)" in second.text
    second.ctrl_c()

    assert second.wait_exit(timeout=40) == 0
    assert runner_world.survivors() == []
    assert not runner_world.database_running()


def test_it_refuses_to_start_beside_its_own_running_platform(runner_world):
    first = runner_world.start_ready()

    second = runner_world.start()

    assert second.wait_exit() == 2
    assert f"already running (runner pid {first.pid}" in second.text
    assert first.exited() is False
