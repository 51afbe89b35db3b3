"""``python manage.py score_transcripts``: compute (or refresh) the transcript lexicon scores
cache ``var/features/transcript_scores.csv`` once, so no worker pays for it on a live cycle."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from features.transcripts import transcript_scores


class Command(BaseCommand):
    help = "Score the earnings-call transcripts with the finance lexicon (cached under var/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--refresh", action="store_true", help="Recompute even if cached")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        scores = transcript_scores(refresh=options["refresh"])
        summary = {
            "transcripts": len(scores),
            "tickers": int(scores["ticker"].nunique()),
            "with_sentiment": int(scores["sentiment"].notna().sum()),
            "with_guidance": int(scores["guidance"].notna().sum()),
            "seconds": round(time.perf_counter() - started, 2),
        }
        self.stdout.write(json.dumps(summary))
