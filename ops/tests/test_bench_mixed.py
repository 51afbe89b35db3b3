"""``bench mixed`` end to end in a tiny configuration: 30 symbols, 20 WebSocket clients, the API
load at 50 requests/s for 8 s, the platform's real processes on a private redis-server and a
scratch database (about a minute). The figures come from the full run (docs/performance.md)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_api_websocket_and_cycles_together_and_reports_the_contract() -> None:
    out = StringIO()
    call_command(
        "bench", "mixed", "--json", "--name", "mixed_test", "--symbols", "30", "--api-rate",
        "50", "--api-connections", "4", "--ws-clients", "20", "--ws-processes", "1",
        "--seconds", "8", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert result["api"]["requests"] > 8 * 50 * 0.5 and result["api_errors"] == 0
    assert 0 < result["api_p50_ms"] <= result["api_p95_ms"] <= result["api_p99_ms"]
    assert result["ws_clients_held"] == 20
    assert result["cycles"] >= 2 and result["cycle_p95_ms"] > 0
    # Every client watches one of the 30 symbols: 20 updates per cycle measured.
    assert result["ws_updates_measured"] >= 20 * (result["cycles"] - 1)
    assert 0 < result["ws_delivery_p99_ms"] < result["ws_delivery_from_cycle_p99_ms"]
    shares = result["cpu_share"]["share"]
    assert {"web", "ingest", "inference", "redis", "api_load", "ws_clients"} <= set(shares)
    assert shares["web"] > 0 and shares["api_load"] > 0
    assert result["machine"]["cores"] >= 1
