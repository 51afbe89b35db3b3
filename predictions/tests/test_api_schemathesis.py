"""The OpenAPI schema tells the truth: schemathesis, with every check, against a live server.

Schema-valid requests must be accepted and answered as documented (status, content type, headers,
body schema); schema-invalid ones must be refused with a 4xx; no request may crash the server.
The run is bounded (``MAX_EXAMPLES`` per operation, fixed seed) so it stays well under two
minutes; the command it runs is printed on failure, to replay by hand.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile

from django.utils import timezone

from predictions.tests.api_support import make_symbol, put_cached, store_prediction
from predictions.tests.live_server import LiveServer
from testkit import BaseTransactionTestCase
from web import api_tokens

MAX_EXAMPLES = 8
SEED = 17
SERVER_ENV = {
    # The fuzzer signs in hundreds of times from one address: the brute-force and anonymous
    # limits would answer 429 (a documented answer, but one that stops the validation under
    # test from being reached).
    "API_RATE_ANON": "1000000",
    "LOGIN_FAILURES_PER_USER": "1000000",
    "LOGIN_FAILURES_PER_IP": "1000000",
}


class SchemathesisTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        for ticker in ("NVDA", "AAPL", "BRK.B", "^GSPC"):
            # Fresh predictions everywhere: a known symbol without one is a documented 503,
            # which the not_a_server_error check would (rightly, in general) flag.
            store_prediction(make_symbol(ticker), predicted_at=timezone.now())
            put_cached(self.redis, ticker)
        self.token = api_tokens.issue_pair(self.charlie).access  # enterprise: no tier limit
        self.server = LiveServer(SERVER_ENV).wait_ready()

    def tearDown(self) -> None:
        self.server.stop()
        super().tearDown()

    def test_it_finds_no_disagreement_between_schema_and_server(self) -> None:
        command = [
            *(sys.executable, "-m", "schemathesis.cli", "run", f"{self.server.url}/api/schema"),
            *("--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)),
            *("--workers", "1", "--generation-database", "none", "--no-color"),
            *("--header", f"Authorization: Bearer {self.token}"),
            *("--request-timeout", "30"),
        ]
        with tempfile.TemporaryDirectory() as scratch:  # it keeps state in ./.schemathesis
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=600, cwd=scratch
            )
        shown = " ".join(command).replace(self.token, "<token>")
        self.assertEqual(
            result.returncode, 0, f"{shown}\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
        )
        selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
        tested = re.search(r"Tested: (\d+)", result.stdout)
        self.assertIsNotNone(selected, result.stdout[-3000:])
        self.assertIsNotNone(tested, result.stdout[-3000:])
        assert selected is not None and tested is not None
        self.assertEqual(tested.group(1), selected.group(2))  # every operation was reached
