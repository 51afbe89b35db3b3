"""``python manage.py index_documents [--source transcripts|playbooks|patterns|edgar]``

Idempotent: a document whose content hash is stored already is skipped, so a second run changes
nothing. Prints one JSON summary. Without ``--source`` every source except ``edgar`` is indexed
(EDGAR needs the network); ``--mode queue`` embeds on the ``index`` Celery queue, ``inline`` in
this process, ``auto`` (default) uses the queue when a worker consumes it. ``--mode background``
(transcripts only, what ``make run`` uses) sends the first link of the chain that indexes every
transcript not stored yet on the ``index`` worker and returns at once
(``indexing.start_transcript_chain``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from explanations.indexing import index_source, index_worker_available, start_transcript_chain
from explanations.sources import SOURCE_NAMES

DEFAULT_SOURCES = ("playbooks", "patterns", "transcripts")


class Command(BaseCommand):
    help = "Index knowledge-base documents (embeddings in pgvector); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", choices=SOURCE_NAMES, action="append")
        parser.add_argument("--limit", type=int, default=None, help="At most N documents")
        parser.add_argument("--symbols", default="", help="Comma-separated tickers")
        parser.add_argument(
            "--universe",
            action="store_true",
            help="Only symbols in the platform's Symbol table (all when it is empty)",
        )
        parser.add_argument(
            "--mode", choices=("auto", "queue", "inline", "background"), default="auto"
        )
        parser.add_argument("--batch", type=int, default=16, help="Documents per task")
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="With --mode queue: enqueue and return without waiting for the worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = options["source"] or list(DEFAULT_SOURCES)
        mode = options["mode"]
        if mode == "background":
            if sources != ["transcripts"]:
                raise CommandError("--mode background indexes --source transcripts only")
            summary = start_transcript_chain(options["limit"])
            self.stdout.write(json.dumps(summary, indent=2))
            return
        if mode == "auto":
            mode = "queue" if index_worker_available() else "inline"
        symbols = [s.strip().upper() for s in options["symbols"].split(",") if s.strip()] or None
        if options["universe"] and symbols is None:
            from ingestion.models import Symbol

            tickers = list(Symbol.objects.filter(active=True).values_list("ticker", flat=True))
            symbols = tickers or None
        results = [
            index_source(
                name,
                mode=mode,
                wait=not options["no_wait"],
                docs_per_batch=options["batch"],
                limit=options["limit"],
                symbols=symbols,
            )
            for name in sources
        ]
        summary = {
            "sources": results,
            "indexed": sum(r["indexed"] for r in results),
            "unchanged": sum(r["unchanged"] for r in results),
            "chunks_written": sum(r["chunks_written"] for r in results),
            "errors": sum(len(r["errors"]) for r in results),
        }
        self.stdout.write(json.dumps(summary, indent=2))
