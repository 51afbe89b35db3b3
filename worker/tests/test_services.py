"""`python -m worker.services -- COMMAND` hands the command the caller's environment."""

from __future__ import annotations

import os
import subprocess
import sys

from worker.tests.conftest import BASE_DIR

PRINT_SETTINGS = "import os; print(os.environ.get('DJANGO_SETTINGS_MODULE', 'unset'))"


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "worker.services", "--", *command],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_it_does_not_leak_the_development_settings_into_the_command():
    result = run([sys.executable, "-c", PRINT_SETTINGS])

    assert result.returncode == 0, result.stderr
    assert "unset" in result.stdout.splitlines()
    assert "config.settings" not in result.stdout


def test_it_runs_the_tests_with_the_test_settings_even_when_told_otherwise():
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "core/tests/test_test_settings.py"]  # fmt: skip

    result = run(pytest_command, DJANGO_SETTINGS_MODULE="config.settings")

    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 passed" in result.stdout


def test_it_leaves_the_database_to_its_last_user(runner_world):
    env = runner_world.env()
    first = subprocess.Popen(  # a `make run` that outlives the `make test` started after it
        [sys.executable, "-m", "worker.services", "--", "sleep", "20"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None
    assert first.stdout.readline().startswith("embedded PostgreSQL started")

    second = subprocess.run(
        [sys.executable, "-m", "worker.services", "--", "true"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "reused (1 other users)" in second.stdout
    assert "left running for its other users" in second.stdout
    assert runner_world.database_running()
    first.wait(timeout=60)
    assert not runner_world.database_running()
