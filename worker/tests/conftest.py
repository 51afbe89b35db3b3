"""The real runner (`python -m worker.run`) in a pseudo-terminal, with a small Procfile (a real
uvicorn web server with two workers, a real Celery worker with its pool) and bootstrap skipped,
on a scratch embedded PostgreSQL cluster and its own var directory, so nothing here touches a
platform running from this checkout."""

from __future__ import annotations

import os
import pty
import select
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import embedded_db
from worker import processes

BASE_DIR = Path(__file__).resolve().parents[2]
PROCFILE = """\
web: python -m uvicorn config.asgi:application --host 127.0.0.1 --port ${PORT} --workers 2
worker: celery -A config worker -Q runner_test -c 1 -n runner@%h --without-gossip -l warning
"""
# Ignores SIGTERM and SIGQUIT: survives its parent's death and a polite stop.
STUBBORN = (
    "stubborn: python -c 'import signal,time; [signal.signal(s, signal.SIG_IGN) for s in "
    "(signal.SIGTERM, signal.SIGQUIT)]; time.sleep(600)'\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Runner:
    """One `make run` in a terminal of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.output = bytearray()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the runner, the terminal's controlling process
            os.chdir(BASE_DIR)
            os.execve(sys.executable, [sys.executable, "-m", "worker.run"], env)
        self.hang_up = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.status: int | None = None

    def _read(self) -> None:
        # The terminal is closed from this thread: a close() while another thread sits in
        # read() would not release the terminal, and the kernel would send no SIGHUP.
        while not self.hang_up.is_set():
            if not select.select([self.fd], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.output.extend(chunk)
        if self.hang_up.is_set():
            os.close(self.fd)

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def wait_until(self, needle: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if self.exited() or time.monotonic() > deadline:
                raise AssertionError(f"never saw {needle!r}; output:\n{self.text[-4000:]}")
            time.sleep(0.2)

    def exited(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status is not None

    def wait_exit(self, timeout: float = 40) -> int:
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                message = f"runner still running after {timeout} s:\n{self.text[-3000:]}"
                raise AssertionError(message)
            time.sleep(0.2)
        assert self.status is not None
        return self.status

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")  # the terminal turns it into SIGINT for its foreground group

    def close_terminal(self) -> None:
        """The kernel sends SIGHUP to the terminal's controlling process (the runner)."""
        self.hang_up.set()
        self.reader.join()


class RunnerWorld:
    def __init__(self, root: Path, pgdata: Path) -> None:
        self.var = root / "var"
        self.pgdata = pgdata
        self.procfile = root / "Procfile"
        self.procfile.write_text(PROCFILE)
        self.port = free_port()
        self.runners: list[Runner] = []

    @property
    def identity(self) -> str:
        return str(self.var.resolve())

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            VAR_DIR=str(self.var),
            EMBEDDED_PGDATA=str(self.pgdata),
            RUN_BOOTSTRAP="0",
            RUN_PROCFILE=str(self.procfile),
            PORT=str(self.port),
            DJANGO_SETTINGS_MODULE="config.settings_test",
        )
        env.update(extra)
        return env

    def start(self, **extra: str) -> Runner:
        runner = Runner(self.env(**extra))
        self.runners.append(runner)
        return runner

    def start_ready(self, expected: int = 5) -> Runner:
        """Started, the web server answering and at least ``expected`` processes up (uvicorn
        parent and two workers, Celery parent and its pool process)."""
        runner = self.start()
        runner.wait_until("The platform is up")
        deadline = time.monotonic() + 60
        while len(self.survivors()) < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(self.survivors()) >= expected, runner.text[-3000:]
        return runner

    def survivors(self) -> list[str]:
        return [f"{p.pid} {processes.service_of(p)}" for p in processes.marked(self.identity)]

    def database_running(self) -> bool:
        return embedded_db._running_socket_dir(self.pgdata) is not None

    def cleanup(self) -> None:
        for runner in self.runners:
            if not runner.exited():
                os.kill(runner.pid, 9)
                runner.wait_exit()
        for process in processes.marked(self.identity):
            process.kill()
        embedded_db.stop(embedded_db.Cluster(self.pgdata))


@pytest.fixture(scope="session")
def runner_pgdata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-db") / "pgdata"


@pytest.fixture
def runner_world(tmp_path: Path, runner_pgdata: Path) -> Iterator[RunnerWorld]:
    world = RunnerWorld(tmp_path, runner_pgdata)
    yield world
    world.cleanup()
