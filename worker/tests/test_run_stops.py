"""Whatever stops the runner, every process it started ends and the database is stopped."""

from __future__ import annotations

import os
import signal

import pytest

pytestmark = pytest.mark.slow


def assert_all_stopped(world, runner) -> None:
    assert world.survivors() == [], runner.text[-3000:]
    assert not world.database_running()
    assert "embedded PostgreSQL stopped" in runner.text


def test_it_stops_everything_on_ctrl_c_in_a_terminal(runner_world):
    runner = runner_world.start_ready()

    runner.ctrl_c()

    assert runner.wait_exit(timeout=30) == 0
    assert "Stopping (SIGINT)" in runner.text
    assert_all_stopped(runner_world, runner)


def test_it_stops_everything_on_sigterm(runner_world):
    runner = runner_world.start_ready()

    os.kill(runner.pid, signal.SIGTERM)

    assert runner.wait_exit(timeout=30) == 0
    assert "Stopping (SIGTERM)" in runner.text
    assert_all_stopped(runner_world, runner)


def test_it_stops_everything_when_its_terminal_closes(runner_world):
    runner = runner_world.start_ready()

    runner.close_terminal()  # SIGHUP; the runner's own output has nowhere to go from now on

    assert runner.wait_exit(timeout=30) == 0
    assert runner_world.survivors() == []
    assert not runner_world.database_running()


def test_it_stops_everything_when_interrupted_during_bootstrap(runner_world):
    runner = runner_world.start(RUN_BOOTSTRAP="1", DATABASE_NAME="runner_bootstrap")
    runner.wait_until("bootstrap (library notices")

    runner.ctrl_c()

    assert runner.wait_exit(timeout=30) == 130
    assert runner_world.survivors() == []
    assert not runner_world.database_running()
