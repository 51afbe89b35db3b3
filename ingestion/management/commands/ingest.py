"""``python manage.py ingest --provider replay|yfinance [--symbols A,B] [--start YYYY-MM-DD]
[--end YYYY-MM-DD] [--file PATH] [--index]``: backfill, then print a JSON summary.

``--file`` is a price file of the shared format (replay; default ``REPLAY_PRICES_FILE``) or a
directory with the two S&P 500 index files; ``--index`` is a shortcut for
``--file SHARED_DATA_DIR/index`` (the ``^GSPC`` series).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.models import IngestionRun
from ingestion.pipeline import ingest_frame
from ingestion.providers import BarQuery, get_provider


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a YYYY-MM-DD date") from None


class Command(BaseCommand):
    help = "Backfill bars from a provider (validate, store, quarantine) and print a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", choices=["replay", "yfinance"], required=True)
        parser.add_argument("--symbols", default="", help="Comma-separated tickers")
        parser.add_argument("--start", type=_date)
        parser.add_argument("--end", type=_date)
        parser.add_argument("--file", help="Price file (replay) or index directory")
        parser.add_argument("--index", action="store_true", help="Load the S&P 500 index")
        parser.add_argument(
            "--once",
            action="store_true",
            help="Skip when a successful backfill with the same arguments is recorded "
            "(fast re-runs of make run's bootstrap)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        symbols = tuple(s.strip().upper() for s in options["symbols"].split(",") if s.strip())
        file = options["file"]
        if options["index"]:
            file = str(settings.SHARED_DATA_DIR / "index")
        if file and options["provider"] != "replay":
            raise CommandError("--file/--index only apply to the replay provider")
        query = BarQuery(
            symbols=symbols or None,
            start=options["start"],
            end=options["end"],
            file=Path(file) if file else None,
        )
        params = {
            "symbols": list(symbols),
            "start": options["start"] and options["start"].isoformat(),
            "end": options["end"] and options["end"].isoformat(),
            "file": file,
        }
        if options["once"]:
            done = IngestionRun.objects.filter(
                provider=options["provider"],
                mode=IngestionRun.Mode.BACKFILL,
                status=IngestionRun.Status.OK,
                params=params,
            ).first()
            if done is not None:
                self.stdout.write(
                    json.dumps({"skipped": True, "previous_run": done.pk, "params": params})
                )
                return
        provider = get_provider(options["provider"])
        started = time.perf_counter()
        bars = provider.fetch(query)
        fetched_s = time.perf_counter() - started
        summary = ingest_frame(
            bars,
            provider=provider.name,
            mode=IngestionRun.Mode.BACKFILL,
            params=params,
        )
        summary["fetch_s"] = round(fetched_s, 2)
        summary["total_s"] = round(time.perf_counter() - started, 2)
        report = provider.report()
        if report:
            summary["provider_report"] = report
        if summary["received"]:
            summary["rows_per_s"] = round(summary["received"] / summary["total_s"])
        self.stdout.write(json.dumps(summary, indent=2, default=str))
