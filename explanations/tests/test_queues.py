"""Interactive before bulk: explanation requests and knowledge-base indexing are routed to
different queues, consumed by different workers, the bulk one niced."""

from __future__ import annotations

from worker.run import procfile_entries


def _queue(name: str) -> str:
    from config.celery_app import app

    return str(app.amqp.router.route({}, name)["queue"].name)


def test_it_routes_indexing_and_explanations_to_different_queues():
    assert _queue("explanations.tasks.generate_explanation") == "explain"
    assert _queue("explanations.tasks.index_documents_batch") == "index"


def test_it_gives_the_bulk_queue_its_own_niced_worker():
    workers = dict(procfile_entries())  # the runner's own parser: comments are not entries
    assert "-Q explain " in workers["explain"] and "index" not in workers["explain"].split("-Q")[1]
    # Environment assignments (its metrics port) may come first; the command runs under nice.
    command = [w for w in workers["index"].split() if "=" not in w]
    assert command[:2] == ["nice", "-n"] and "-Q index " in workers["index"]
