"""Bulk indexing pauses between its embedding batches while an explanation job runs."""

from __future__ import annotations

import threading
import time

from explanations import yielding


def test_it_waits_while_an_explanation_runs_and_not_after(redis_client):
    done = threading.Event()

    def job() -> None:
        with yielding.explaining("exp_test"):
            done.wait(timeout=5)

    thread = threading.Thread(target=job)
    thread.start()
    while not yielding.running():
        time.sleep(0.01)
    threading.Timer(0.5, done.set).start()
    waited = yielding.wait_while_explaining(max_seconds=5)
    thread.join()
    assert 0.3 <= waited < 5
    assert yielding.running() == 0
    assert yielding.wait_while_explaining() < 0.1


def test_it_forgets_the_claim_of_a_worker_that_died(redis_client):
    redis_client.zadd(yielding.KEY, {"exp_lost": time.time() - 1})
    assert yielding.running() == 0


def test_it_calls_the_pause_before_each_embedding_batch():
    from explanations.embeddings import embed

    calls: list[int] = []
    vectors = embed(["one", "two", "three"], batch_size=2, pause=lambda: calls.append(1))
    assert vectors.shape == (3, 384)
    assert len(calls) == 2
