"""Document sources of the knowledge base. Each module yields ``DocumentSpec`` objects; the
indexer (``explanations.indexing``) hashes, chunks, embeds and stores them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from explanations.sources.base import DocumentSpec

SOURCE_NAMES = ("transcripts", "playbooks", "patterns", "edgar")


def iter_source(name: str, **options: Any) -> Iterator[DocumentSpec]:
    if name == "transcripts":
        from explanations.sources.transcripts import iter_transcripts

        return iter_transcripts(
            limit=options.get("limit"),
            symbols=options.get("symbols"),
            path=options.get("path"),
            after=options.get("after"),
            exclude=options.get("exclude") or frozenset(),
        )
    if name == "playbooks":
        from explanations.sources.playbooks import iter_playbooks

        return iter_playbooks()
    if name == "patterns":
        from explanations.sources.patterns import iter_patterns

        return iter_patterns(symbols=options.get("symbols"))
    if name == "edgar":
        from explanations.sources.edgar_filings import iter_edgar

        return iter_edgar(symbols=options.get("symbols"), limit=options.get("limit"))
    raise ValueError(f"Unknown source {name!r}; known: {SOURCE_NAMES}")
