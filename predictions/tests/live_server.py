"""A real uvicorn server process on this test's database and Redis, for tests that must cross
process boundaries (two web workers, an HTTP fuzzer)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import connection

from core.ws_raw_frames import UVICORN_WS
from testkit import BaseTransactionTestCase


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "TEST_REDIS_URL": settings.REDIS_URL,
            "DATABASE_NAME": connection.settings_dict["NAME"],  # this test's database
            **(env or {}),
        }
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--ws", UVICORN_WS]
        self.process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log", *args],
            cwd=settings.BASE_DIR,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 120) -> LiveServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.stderr_tail()}")
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5).close()
                return self
            except urllib.error.HTTPError:
                return self  # it answers (unhealthy parts are not this helper's business)
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise AssertionError(f"server on port {self.port} not ready in {timeout} s")

    def stderr_tail(self) -> str:
        return self.process.stderr.read().decode()[-3000:] if self.process.stderr else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


class LiveFeedTestCase(BaseTransactionTestCase):
    """A real uvicorn (``server_args``) on this test's database, with NVDA and AAPL listed."""

    server_args: tuple[str, ...] = ()

    def setUp(self) -> None:
        from predictions.consumers import forget_known_symbols
        from predictions.tests.api_support import make_symbol

        super().setUp()
        forget_known_symbols()
        for ticker in ("NVDA", "AAPL"):
            make_symbol(ticker)
        self.server = LiveServer(args=self.server_args).wait_ready()
        self.addCleanup(self.server.stop)
