"""``python manage.py regimes [--from-year 2000] [--json]``: label every trading day's market
regime (a model per year fitted on the years before it) and store them."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from decisions import regime, regime_store


class Command(BaseCommand):
    help = "Label and store the market regime of every trading day (Gaussian HMM, refit yearly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-year", type=int, default=regime.FIRST_LABEL_YEAR)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.monotonic()
        labels = regime.label_all(opts["from_year"])
        written = regime_store.save(labels)
        out = {
            "days": written,
            "years": len(labels),
            "method": regime.METHOD,
            "today": regime_store.current(history_days=0),
            "seconds": round(time.monotonic() - started, 1),
        }
        self.stdout.write(json.dumps(out, indent=2) if opts["json"] else f"{written} days stored")
