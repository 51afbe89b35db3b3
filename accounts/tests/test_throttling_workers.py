"""Tier limits hold exactly at their boundary when requests are spread over two web server
processes (what ``make run`` starts: ``--workers 2``) and both API paths (Django views and the
prediction fast path): the budget lives in Redis, counted atomically, never per process."""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from predictions.tests.api_support import access_token, make_symbol, put_cached
from predictions.tests.live_server import LiveServer
from testkit import BaseTransactionTestCase

LIMITS = {"API_RATE_FREE": "5", "API_RATE_PRO": "8", "API_RATE_ANON": "4"}


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
        env = {
            **LIMITS,
            # One window for the whole test: a fixed-window boundary would refill the budget.
            "API_RATE_WINDOW_SECONDS": str(10**9),
            # The counting is under test, not this shared machine's load: a Redis answer slower
            # than the 0.25 s default would fail open (uncounted) and blur the boundary.
            "API_REDIS_TIMEOUT_SECONDS": "10",
        }
        self.servers = [LiveServer(env), LiveServer(env)]
        for server in self.servers:
            server.wait_ready()
        self.ports = [server.port for server in self.servers]
        self.redis.flushdb()  # the readiness probes counted as anonymous requests
        put_cached(self.redis, "NVDA")

    def tearDown(self) -> None:
        for server in self.servers:
            server.stop()
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
