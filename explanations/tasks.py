"""Celery tasks of the explanations app: ``generate_explanation`` on the ``explain`` queue,
``index_documents_batch`` and ``index_transcripts_chain`` on the ``index`` queue
(config/celery_app.py routes them)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from core import metrics
from explanations.models import Explanation, ExplanationStatus

log = logging.getLogger(__name__)


@shared_task(
    name="explanations.tasks.index_documents_batch",
    soft_time_limit=540,
    time_limit=600,
)
def index_documents_batch(specs: list[dict[str, Any]], force: bool = False) -> dict[str, int]:
    """Embed and store a batch of documents (``DocumentSpec.to_dict()`` form)."""
    from explanations.indexing import store_batch
    from explanations.sources.base import DocumentSpec

    return store_batch([DocumentSpec.from_dict(s) for s in specs], force=force)


@shared_task(
    name="explanations.tasks.index_transcripts_chain",
    # Nobody waits for a link: ~150 result keys would sit in Redis for an hour.
    ignore_result=True,
    soft_time_limit=540,
    time_limit=600,
)
def index_transcripts_chain(after: str | None, remaining: int | None) -> dict[str, Any]:
    """The next transcripts not stored yet, then the next link (``indexing.index_chain_link``).
    One link embeds 16 transcripts (~440 chunks) and may pause up to 300 s for explanations."""
    from core.tasking import send_now
    from explanations.indexing import CHAIN_TASK, index_chain_link

    try:
        return index_chain_link(after, remaining)
    except SoftTimeLimitExceeded:
        # Explanations kept the link paused too long; its batch was not written (one
        # transaction), so the same link goes again instead of the chain ending here.
        log.warning("index chain link after %s ran out of time; sent again", after)
        send_now(CHAIN_TASK, after, remaining)
        return {"documents": 0, "chunks": 0, "skipped": 0, "retried": 1}


@shared_task(
    name="explanations.tasks.generate_explanation",
    soft_time_limit=90,
    time_limit=120,
)
def generate_explanation(job_id: str) -> str:
    from explanations import cache
    from explanations.service import NoPrediction, cache_payload, explain
    from explanations.yielding import explaining

    job = Explanation.objects.filter(job_id=job_id).first()
    if job is None:
        log.warning("Explanation job %s does not exist", job_id)
        return "missing"
    Explanation.objects.filter(pk=job.pk).update(
        status=ExplanationStatus.PROCESSING, started_at=timezone.now(), progress=0.05
    )

    def progress(value: float) -> None:
        Explanation.objects.filter(pk=job.pk).update(progress=round(min(value, 0.99), 2))

    started = time.perf_counter()
    try:
        with explaining(job_id):  # the index worker pauses meanwhile (yielding.py)
            explanation, timings = explain(job.symbol, job.depth, progress=progress)
    except (NoPrediction, SoftTimeLimitExceeded, Exception) as exc:
        metrics.EXPLANATIONS.labels(generator="none", outcome="error").inc()
        log.exception("Explanation %s failed", job_id)
        Explanation.objects.filter(pk=job.pk).update(
            status=ExplanationStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            completed_at=timezone.now(),
        )
        return "failed"
    _observe(explanation, timings.attempts, time.perf_counter() - started)
    Explanation.objects.filter(pk=job.pk).update(
        status=ExplanationStatus.COMPLETED,
        progress=1.0,
        result=explanation,
        generator=explanation["generator"],
        grounding_passed=explanation["grounding"]["passed"],
        prediction_data_timestamp=explanation["prediction"]["data_timestamp"],
        model_version=explanation["prediction"]["model_version"] or "",
        completed_at=timezone.now(),
    )
    cache.put(job.symbol, cache_payload(job.symbol, job_id, explanation))
    return "completed"


def _observe(explanation: dict[str, Any], llm_attempts: int, seconds: float) -> None:
    generator = explanation["generator"]
    passed = explanation["grounding"]["passed"]
    metrics.EXPLANATION_SECONDS.labels(generator=generator).observe(seconds)
    log.info(
        "explanation completed",
        extra={"generator": generator, "grounding_passed": passed, "seconds": round(seconds, 3)},
    )
    outcome = "ok" if passed else "grounding_failed"
    metrics.EXPLANATIONS.labels(generator=generator, outcome=outcome).inc()
    rejected = llm_attempts - (1 if generator == "llm" else 0)
    if rejected > 0:
        metrics.EXPLANATION_LLM_REJECTED.inc(rejected)
