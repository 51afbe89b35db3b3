"""The platform's own processes, started for a bench: a private redis-server on a free port
(never the machine's shared 6379), the Celery workers of the live cycle (``ingest,features`` and
``inference``, as in worker/Procfile), beat, and the ASGI web server, all on a scratch database
of the embedded PostgreSQL. Each process gets its own session (so a kill takes its children
too) and its own log file under the bench's work directory.

The private Redis keeps an append-only file, as a broker must: a broker restarted empty loses
every queued task, which is a deployment error, not something a bench should measure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from core.ws_raw_frames import UVICORN_WS

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LIVE_QUEUES = ("ingest", "features", "inference")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: object, timeout: float, what: str, step: float = 0.1) -> float:
    """Poll ``predicate`` (a callable) until true; the seconds it took. Raises on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(Exception):
            if predicate():  # type: ignore[operator]
                return time.monotonic() - started
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class Stack:
    """Start, kill and restart the platform's processes by name."""

    def __init__(self, workdir: Path, database: str, extra_env: dict[str, str]) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database = database
        self.redis_port = free_port()
        self.web_port = free_port()
        self.extra_env = extra_env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_proc: subprocess.Popen[bytes] | None = None

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def redis(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis.from_url(
            self.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    # --- Redis ---------------------------------------------------------------------------

    def start_redis(self) -> None:
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        argv = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(data), "--save", "", "--appendonly", "yes"]
        log = (self.logs / "redis.log").open("ab")
        self.redis_proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.redis(0.5).ping(), 20, "the private redis-server")

    def stop_redis(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits, as on a clean restart."""
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            self.redis_proc.wait(30)

    # --- platform processes ----------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        # The bench's own broker and database only; CELERY_ORPHAN_REAPER=0 passes through to
        # measure the platform without its orphan reaper.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CELERY_", "DATABASE_")) or k == "CELERY_ORPHAN_REAPER"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_NAME=self.database,
            REDIS_URL=self.redis_url,
            LOG_SERVICE=name,
            PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if name == "web":
            metrics = self.workdir / "metrics-web"
            metrics.mkdir(exist_ok=True)
            for old in metrics.glob("*.db"):
                old.unlink()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        env.update(self.extra_env)
        return env

    def argv(self, name: str) -> list[str]:
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        node = f"{name}@bench-{self.redis_port}"
        worker = ["worker", "-c", "1", "-n", node, "--without-gossip", "--without-mingle"]
        if name == "ingest":
            return [*celery, *worker, "-Q", "ingest,features", "-l", "info"]
        if name == "inference":
            return [*celery, *worker, "-Q", "inference", "-l", "info"]
        if name == "beat":
            pid = self.workdir / "beat.pid"
            pid.unlink(missing_ok=True)
            return [*celery, "beat", "-l", "info", f"--pidfile={pid}"]
        if name == "web":
            return [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
                    "127.0.0.1", "--port", str(self.web_port), "--workers", "2",
                    "--no-access-log", "--ws", UVICORN_WS, "--timeout-worker-healthcheck",
                    os.environ.get("WEB_WORKER_HEALTHCHECK_S", "30")]  # fmt: skip
        raise KeyError(name)

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            self.argv(name),
            cwd=BASE_DIR,
            env=self.env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if name == "web":
            wait_until(self.web_answers, 60, "the web server")

    def web_listening(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.web_port), timeout=0.5):
            return True

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def pause(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGCONT)

    def web_answers(self) -> bool:
        """The web server answers HTTP (its workers started), not just accepts connections."""
        with socket.create_connection(("127.0.0.1", self.web_port), timeout=2) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/")

    def web_closed(self) -> bool:
        try:
            self.web_listening()
        except OSError:
            return True
        return False

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        self.stop_redis()

    def idle(self) -> bool:
        """No live-cycle message queued or held by a worker (a broker that does not answer is
        not idle)."""
        try:
            pipe = self.redis().pipeline(transaction=False)
            for queue in LIVE_QUEUES:
                pipe.llen(queue)
            pipe.hlen("unacked")
            return not any(pipe.execute())
        except redis.RedisError:
            return False

    def queue_depths(self) -> dict[str, int]:
        client = self.redis()
        return {q: int(client.llen(q)) for q in LIVE_QUEUES}
