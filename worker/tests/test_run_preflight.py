"""What stops `make run` before it starts anything: a short message and exit code 2."""

from __future__ import annotations

import socket
import subprocess
import sys

from worker.tests.conftest import BASE_DIR


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.run"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_names_a_missing_data_folder(runner_world, tmp_path):
    result = run(runner_world.env(SHARED_DATA_DIR=str(tmp_path / "nowhere")))

    assert result.returncode == 2
    assert f"The shared data folder {tmp_path / 'nowhere'} does not exist" in result.stdout
    assert "prices/sp500_members_daily_2005_2025.csv.gz" in result.stdout
    assert "MARKET_DATA_PROVIDER=yfinance" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not runner_world.database_running()


def test_it_names_the_holder_of_an_occupied_port(runner_world):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", runner_world.port))
        holder.listen()

        result = run(runner_world.env())

    assert result.returncode == 2
    assert f"Port {runner_world.port} is taken by pid" in result.stdout
    assert "PORT=" in result.stdout
    assert not runner_world.database_running()


def test_it_says_when_redis_does_not_answer(runner_world):
    result = run(runner_world.env(REDIS_URL="redis://127.0.0.2:1/0"))

    assert result.returncode == 2
    assert "does not answer" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
