"""Store documents and their embedded chunks; skip documents whose content hash is unchanged.

``index_source`` streams a source's documents, drops those already stored with the same hash and
embeds the rest in batches, either in this process or as ``index_documents_batch`` tasks on the
``index`` queue (its own niced worker: bulk embedding never delays an explanation request).

``start_transcript_chain`` is how ``make run`` indexes every transcript in the background: one
small task on the ``index`` queue embeds the next ``DOCS_PER_BATCH`` transcripts not stored yet
and sends the next one, so the broker never holds more than one message of it (queueing all
2,425 transcripts' chunk texts up front would put ~60 MB in Redis) and a chain cut by a stop is
started again by the next bootstrap where it left off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db import transaction

from core.tasking import send_now, workers_consuming
from explanations.models import Chunk, Document
from explanations.sources import iter_source
from explanations.sources.base import DocumentSpec

log = logging.getLogger(__name__)

DOCS_PER_BATCH = 16
# The queue ``config/celery_app.py`` routes ``index_documents_batch`` and the chain to.
INDEX_QUEUE = "index"
CHAIN_TASK = "explanations.tasks.index_transcripts_chain"


def _batched(items: Iterable[DocumentSpec], n: int) -> Iterator[list[DocumentSpec]]:
    it = iter(items)
    while batch := list(islice(it, n)):
        yield batch


def changed(specs: list[DocumentSpec]) -> list[tuple[DocumentSpec, str]]:
    """The specs whose stored hash differs (or that are not stored), with their new hash."""
    if not specs:
        return []
    stored: dict[tuple[str, str], str] = {
        (s, e): h
        for s, e, h in Document.objects.filter(
            source__in={s.source for s in specs}, external_id__in=[s.external_id for s in specs]
        ).values_list("source", "external_id", "content_hash")
    }
    out = []
    for spec in specs:
        digest = spec.content_hash()
        if stored.get((spec.source, spec.external_id)) != digest:
            out.append((spec, digest))
    return out


def store_batch(specs: list[DocumentSpec], *, force: bool = False) -> dict[str, int]:
    """Embed and write a batch of documents (the body of the Celery task). Safe to run twice:
    a document whose hash is already stored is skipped, unless ``force`` (re-embed and replace
    its chunks with the same content: ``bench explain`` uses it to load the index worker)."""
    from explanations.embeddings import embed
    from explanations.yielding import wait_while_explaining

    todo = [(spec, spec.content_hash()) for spec in specs] if force else changed(specs)
    texts = [chunk.text for spec, _ in todo for chunk in spec.chunks]
    vectors = embed(texts, pause=wait_while_explaining)
    written = 0
    pos = 0
    with transaction.atomic():
        for spec, digest in todo:
            doc, _ = Document.objects.update_or_create(
                source=spec.source,
                external_id=spec.external_id,
                defaults={
                    "title": spec.title[:300],
                    "symbol": spec.symbol,
                    "filing_type": spec.filing_type,
                    "section": spec.section[:200],
                    "date": spec.date,
                    "url": spec.url,
                    "content_hash": digest,
                    "metadata": spec.metadata,
                },
            )
            doc.chunks.all().delete()
            rows = []
            for i, chunk in enumerate(spec.chunks):
                rows.append(
                    Chunk(
                        document=doc,
                        chunk_index=i,
                        text=chunk.text,
                        source=spec.source,
                        symbol=spec.symbol,
                        filing_type=spec.filing_type,
                        section=(chunk.section or spec.section)[:200],
                        date=spec.date,
                        embedding=vectors[pos + i].tolist(),
                    )
                )
            pos += len(spec.chunks)
            Chunk.objects.bulk_create(rows)
            written += len(rows)
    return {"documents": len(todo), "chunks": written, "skipped": len(specs) - len(todo)}


def index_worker_available(timeout: float = 1.0) -> bool:
    return workers_consuming(INDEX_QUEUE, timeout)


def index_source(
    name: str,
    *,
    mode: str = "inline",
    wait: bool = True,
    docs_per_batch: int = DOCS_PER_BATCH,
    task_timeout: float = 600.0,
    **options: Any,
) -> dict[str, Any]:
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "source": name,
        "mode": mode,
        "documents_seen": 0,
        "unchanged": 0,
        "indexed": 0,
        "chunks_written": 0,
        "errors": [],
    }
    pending = []
    try:
        for batch in _batched(iter_source(name, **options), docs_per_batch):
            summary["documents_seen"] += len(batch)
            todo = [spec for spec, _ in changed(batch)]
            summary["unchanged"] += len(batch) - len(todo)
            if not todo:
                continue
            if mode == "queue":
                pending.append(
                    send_now(
                        "explanations.tasks.index_documents_batch",
                        [spec.to_dict() for spec in todo],
                    )
                )
            else:
                result = store_batch(todo)
                summary["indexed"] += result["documents"]
                summary["chunks_written"] += result["chunks"]
        if not wait:  # e.g. before the workers start: they embed the batches when they do
            summary["queued_batches"] = len(pending)
            pending = []
        for async_result in pending:
            result = async_result.get(timeout=task_timeout)
            summary["indexed"] += result["documents"]
            summary["chunks_written"] += result["chunks"]
    except Exception as exc:  # report what was done before the failure
        log.exception("Indexing %s failed", name)
        summary["errors"].append(f"{type(exc).__name__}: {exc}")
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["documents_total"] = Document.objects.filter(source=_SOURCE_VALUE[name]).count()
    return summary


_SOURCE_VALUE = {
    "transcripts": "transcript",
    "playbooks": "playbook",
    "patterns": "pattern",
    "edgar": "edgar",
}


def _stored_transcripts() -> set[str]:
    return set(Document.objects.filter(source="transcript").values_list("external_id", flat=True))


def index_chain_link(after: str | None, remaining: int | None) -> dict[str, Any]:
    """One link of the background chain (the task's body): embed and store the next ``docs``
    transcripts after ``after`` that are not stored, then send the next link unless the data
    set or ``remaining`` (None: no limit) is exhausted."""
    take = DOCS_PER_BATCH if remaining is None else min(DOCS_PER_BATCH, remaining)
    specs = list(
        islice(iter_source("transcripts", after=after, exclude=_stored_transcripts()), take)
    )
    result: dict[str, Any] = {"documents": 0, "chunks": 0, "skipped": 0}
    if specs:
        result.update(store_batch(specs))
    left = None if remaining is None else remaining - len(specs)
    if specs and len(specs) == take and (left is None or left > 0):
        send_now(CHAIN_TASK, specs[-1].external_id, left)
        result["next_after"] = specs[-1].external_id
    return result


def start_transcript_chain(limit: int | None = None) -> dict[str, Any]:
    """Send the first link of the chain when transcripts (up to ``limit``) are missing."""
    stored = _stored_transcripts()
    from explanations.sources.transcripts import transcript_ids

    total = len(transcript_ids())
    target = total if limit is None else min(limit, total)
    missing = max(target - len(stored), 0)
    summary: dict[str, Any] = {
        "source": "transcripts",
        "mode": "background",
        "documents_total": len(stored),
        "documents_in_data_set": total,
        "queued": missing > 0,
    }
    if missing:
        send_now(CHAIN_TASK, None, None if limit is None else missing)
        summary["to_index"] = missing
    return summary
