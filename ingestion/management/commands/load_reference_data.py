"""``python manage.py load_reference_data``: symbols, earnings events, fundamentals (idempotent)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.models import EarningsEvent, Fundamentals, Symbol
from ingestion.reference.loader import load_reference_data


class Command(BaseCommand):
    help = "Load symbols, earnings events (with reaction days) and annual fundamentals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", default=str(settings.SHARED_DATA_DIR))
        parser.add_argument("--symbols", default="", help="Only these tickers (comma-separated)")
        parser.add_argument(
            "--once",
            action="store_true",
            help="Skip when symbols, earnings events and fundamentals are already loaded",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"] and all(
            m.objects.exists() for m in (Symbol, EarningsEvent, Fundamentals)
        ):
            self.stdout.write(json.dumps({"skipped": True, "message": "already loaded"}))
            return
        only = {s.strip().upper() for s in options["symbols"].split(",") if s.strip()} or None
        data_dir = Path(options["data_dir"])
        if not (data_dir / "reference").is_dir():
            raise CommandError(
                f"no reference data in {data_dir} (expected {data_dir / 'reference'}): set "
                "SHARED_DATA_DIR or --data-dir to the shared data folder"
            )
        started = time.perf_counter()
        loaded = load_reference_data(data_dir, only)
        changed = sum(v["created"] + v["updated"] for v in loaded.values())
        result: dict[str, Any] = dict(loaded)
        result["changed"] = changed
        result["message"] = "nothing changed" if changed == 0 else f"{changed} rows written"
        result["seconds"] = round(time.perf_counter() - started, 2)
        self.stdout.write(json.dumps(result, indent=2))
