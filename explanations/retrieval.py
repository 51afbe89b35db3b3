"""Nearest chunks by cosine similarity (pgvector ``<=>`` over the HNSW index), re-ranked with
recency.

``relevance = SIMILARITY_WEIGHT * cosine_similarity + RECENCY_WEIGHT * recency`` where recency
halves every ``HALF_LIFE_DAYS`` of age before the reference date; undated documents (playbooks)
get a neutral recency of 0.5. Documents dated after ``as_of`` are excluded, so an explanation of
a replayed historical day never cites a later transcript or statistic.

pgvector 0.8 runs filtered HNSW scans iteratively (``hnsw.iterative_scan = relaxed_order``), so
a symbol filter still returns ``k`` rows instead of whatever survives the first ``ef_search``
candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from django.db import connection, transaction

from explanations import conf

SIMILARITY_WEIGHT = 0.85
RECENCY_WEIGHT = 0.15
HALF_LIFE_DAYS = 365.0
CANDIDATE_FACTOR = 4


@dataclass(frozen=True)
class Excerpt:
    chunk_id: int
    document_id: int
    title: str
    source: str
    symbol: str
    section: str
    date: date | None
    text: str
    similarity: float
    relevance: float
    url: str = ""

    def as_source(self, max_chars: int = 400) -> dict[str, Any]:
        text = self.text if len(self.text) <= max_chars else self.text[: max_chars - 1] + "…"
        return {
            "title": self.title,
            "excerpt": text,
            "relevance": round(self.relevance, 3),
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "url": self.url,
        }


def _recency(d: date | None, ref: date) -> float:
    if d is None:
        return 0.5
    age = max((ref - d).days, 0)
    return float(0.5 ** (age / HALF_LIFE_DAYS))


def search(
    query_vector: np.ndarray,
    *,
    k: int = 5,
    symbol: str | None = None,
    sources: list[str] | None = None,
    as_of: date | None = None,
) -> list[Excerpt]:
    where = ["c.embedding IS NOT NULL"]
    params: list[Any] = []
    if symbol:
        where.append("c.symbol = %s")
        params.append(symbol.upper())
    if sources:
        where.append("c.source = ANY(%s)")
        params.append(list(sources))
    if as_of:
        where.append("(c.date IS NULL OR c.date <= %s)")
        params.append(as_of)
    vec = "[" + ",".join(f"{x:.6f}" for x in np.asarray(query_vector, dtype=np.float32)) + "]"
    sql = (
        "SELECT c.id, c.document_id, d.title, c.source, c.symbol, c.section, c.date, c.text, "
        "1 - (c.embedding <=> %s::vector) AS similarity, d.url "
        "FROM (SELECT * FROM explanations_chunk c WHERE " + " AND ".join(where) + " "
        "ORDER BY c.embedding <=> %s::vector LIMIT %s) c "
        "JOIN explanations_document d ON d.id = c.document_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL: the search settings end with this transaction.
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [int(conf.get("RAG_EF_SEARCH"))])
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(sql, [vec, *params, vec, k * CANDIDATE_FACTOR])
        rows = cursor.fetchall()
    ref = as_of or datetime.now(UTC).date()
    excerpts = [
        Excerpt(
            chunk_id=r[0],
            document_id=r[1],
            title=r[2],
            source=r[3],
            symbol=r[4],
            section=r[5],
            date=r[6],
            text=r[7],
            similarity=float(r[8]),
            relevance=SIMILARITY_WEIGHT * float(r[8]) + RECENCY_WEIGHT * _recency(r[6], ref),
            url=r[9] or "",
        )
        for r in rows
    ]
    excerpts.sort(key=lambda e: e.relevance, reverse=True)
    return excerpts[:k]


def retrieve(
    query: str,
    *,
    symbol: str | None = None,
    k: int = 4,
    as_of: date | None = None,
) -> tuple[list[Excerpt], float]:
    """Symbol-specific excerpts (transcripts, filings, pattern notes) merged with general
    playbook guidance; at most one excerpt per document. Returns (excerpts, elapsed ms)."""
    from explanations.embeddings import embed_one

    started = time.perf_counter()
    vector = embed_one(query)
    found: list[Excerpt] = []
    if symbol:
        found += search(
            vector, k=k, symbol=symbol, sources=["transcript", "edgar", "pattern"], as_of=as_of
        )
    found += search(vector, k=k, sources=["playbook"], as_of=as_of)
    found.sort(key=lambda e: e.relevance, reverse=True)
    seen: set[int] = set()
    pattern_seen: set[str] = set()
    unique: list[Excerpt] = []
    for e in found:
        # Yearly pattern notes of one symbol repeat each other: keep the most relevant one.
        if e.document_id in seen or (e.source == "pattern" and e.symbol in pattern_seen):
            continue
        seen.add(e.document_id)
        if e.source == "pattern":
            pattern_seen.add(e.symbol)
        unique.append(e)
    return unique[:k], (time.perf_counter() - started) * 1000.0
