"""``bench faults`` and ``bench soak`` end to end in a tiny configuration: 30 symbols, one fault,
a few cycles, the platform's real processes on a private redis-server and a scratch database.
Each run takes about a minute (a scratch database from the migrations, the replay file read,
five processes started): the speed figures come from the full runs (docs/operations.md)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)

TINY = ["--symbols", "30", "--api-rate", "5", "--ws-clients", "2"]


def _bench(*args: str) -> dict:
    out = StringIO()
    call_command("bench", *args, "--json", *TINY, stdout=out)
    return json.loads(out.getvalue())


def test_it_kills_the_inference_worker_mid_batch_and_loses_nothing() -> None:
    result = _bench("faults", "--name", "faults_test", "--cycles", "4", "--faults",
                    "inference_kill")  # fmt: skip
    (fault,) = result["faults"]
    assert fault["name"] == "inference_kill" and fault["cycles"] >= 4
    assert fault["fault"]["waited_for_batch_s"] is not None  # killed while holding a batch
    assert 0 < fault["predictions_expected"] <= 30 * fault["cycles"]
    assert result["lost_total"] == 0 and result["duplicates_total"] == 0
    assert fault["recovery_s"] is not None and fault["recovery_s"] < 60
    assert fault["api_requests"] > 0 and fault["api_5xx"] == 0
    assert not result["replay_wrapped"]


def test_it_soaks_and_reports_memory_errors_and_queues() -> None:
    result = _bench("soak", "--name", "soak_test", "--minutes", "0.25", "--warmup-minutes", "0.1")
    assert set(result["rss_mb_after_warmup"]) == {"ingest", "inference", "beat", "web", "redis"}
    assert all(mb > 10 for mb in result["rss_mb_end"].values())
    assert set(result["growth_pct"]) == set(result["rss_mb_end"])
    assert isinstance(result["pass"], bool)
    assert result["cycles"] > 0 and result["api"]["requests"] > 0 and result["api"]["5xx"] == 0
    assert set(result["queue_depths"]["end"]) == {"ingest", "features", "inference"}
