"""``python manage.py evaluate --model normal|earnings [--version V] --prices PATH
[--from YYYY-MM-DD] [--to YYYY-MM-DD] --json``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from predictions.ml.data import ALL_KINDS


class Command(BaseCommand):
    help = "Evaluate a registered model (default: the active one) on any shared-format price file."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        # The contract's --version (model version) replaces Django's program --version flag.
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("--model", required=True, choices=ALL_KINDS)
        parser.add_argument("--version", default=None)
        parser.add_argument("--prices", type=Path, required=True)
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat, default=None)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat, default=None)
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        from predictions.ml import registry
        from predictions.ml.evaluate import evaluate_version

        if not opts["prices"].exists():
            raise CommandError(f"No such price file: {opts['prices']}")
        try:
            mv = registry.get_version(opts["model"], opts["version"])
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from exc
        result = evaluate_version(mv, opts["prices"], opts["date_from"], opts["date_to"])
        if opts["json"]:
            self.stdout.write(json.dumps(result, default=str))
            return
        for key, value in result.items():
            self.stdout.write(f"{key:>28}: {value}")
