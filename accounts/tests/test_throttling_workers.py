"""Tier limits hold exactly at their boundary when requests are spread over two web server
processes (what ``make run`` starts: ``--workers 2``) and both API paths (Django views and the
prediction fast path): the budget lives in Redis, counted atomically, never per process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from core.testing import BaseTransactionTestCase
from predictions.tests.api_support import access_token, make_symbol, put_cached

LIMITS = {"API_RATE_FREE": "5", "API_RATE_PRO": "8", "API_RATE_ANON": "4"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        **LIMITS,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "TEST_REDIS_URL": settings.REDIS_URL,
        "DATABASE_NAME": connection.settings_dict["NAME"],  # this test's database
        # One window for the whole test: a fixed-window boundary would refill the budget.
        "API_RATE_WINDOW_SECONDS": str(10**9),
        # The counting is under test, not this shared machine's load: a Redis answer slower than
        # the 0.25 s default would fail open (uncounted) and blur the boundary.
        "API_REDIS_TIMEOUT_SECONDS": "10",
    }
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    return subprocess.Popen(
        [*command, "--port", str(port), "--no-access-log"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema", timeout=5).close()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"server on port {port} not ready in {timeout} s")


def get(port: int, path: str, token: str | None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


class TwoWorkerLimitTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        make_symbol("NVDA")
        put_cached(self.redis, "NVDA")
        self.ports = [free_port(), free_port()]
        self.servers = [start_server(port) for port in self.ports]
        for port, server in zip(self.ports, self.servers, strict=True):
            wait_ready(port, server)
        self.redis.flushdb()  # the readiness probes counted as anonymous requests
        put_cached(self.redis, "NVDA")

    def tearDown(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        super().tearDown()

    def burst(self, token: str | None, n: int) -> list[tuple[int, dict[str, str]]]:
        """``n`` concurrent requests alternating between the two servers and the two paths."""
        # Anonymous callers: an endpoint open to them (elsewhere they get 401 before counting).
        paths = ["/api/prediction/NVDA", "/api/symbols?search=NV"] if token else ["/api/schema"]

        def one(i: int) -> tuple[int, dict[str, str]]:
            return get(self.ports[i % 2], paths[(i // 2) % len(paths)], token)

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(one, range(n)))

    def assert_exact_budget(self, answers: list[tuple[int, dict[str, str]]], limit: int) -> None:
        codes = sorted(status for status, _ in answers)
        self.assertEqual(codes, [200] * limit + [429] * (len(answers) - limit))
        remaining = sorted(int(h["x-ratelimit-remaining"]) for s, h in answers if s == 200)
        self.assertEqual(remaining, list(range(limit)))  # each count handed out exactly once
        for status, headers in answers:
            self.assertEqual(headers["x-ratelimit-limit"], str(limit))
            if status == 429:
                self.assertGreaterEqual(int(headers["retry-after"]), 1)

    def test_it_holds_each_tier_limit_exactly_across_two_servers(self) -> None:
        free = self.burst(access_token(self.bob), 12)
        pro = self.burst(access_token(self.alice), 14)
        self.assert_exact_budget(free, 5)
        self.assert_exact_budget(pro, 8)
        enterprise = self.burst(access_token(self.charlie), 12)
        self.assertEqual([status for status, _ in enterprise], [200] * 12)

    def test_it_holds_the_anonymous_limit_per_address_across_two_servers(self) -> None:
        self.assert_exact_budget(self.burst(None, 7), 4)
