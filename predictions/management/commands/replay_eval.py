"""``python manage.py replay_eval [--from 2024-07-10] [--to 2025-07-09] [--no-adapt] --json``.

The live cycle's own code day by day over the stored daily bars, in a scratch database and a
private Redis (``predictions.replay``); prints one JSON object with the figures, the baseline
(adaptation off) and the machine."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.machine import machine_info
from predictions.replay import ReplayOptions, run


def _model_dir(value: str) -> tuple[str, str]:
    kind, _, directory = value.partition("=")
    if kind not in ("normal", "earnings") or not directory:
        raise ValueError(value)
    return kind, directory


class Command(BaseCommand):
    help = "Replay the live cycle over stored daily bars and score its intervals and forecasts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=date.fromisoformat, default="2024-07-10")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, default="2025-07-09")
        parser.add_argument("--no-adapt", action="store_true", help="offline calibration only")
        parser.add_argument(
            "--no-baseline", action="store_true", help="skip the adaptation-off run"
        )
        parser.add_argument(
            "--prices", default="auto", help="db, a price CSV, or auto (db when it covers)"
        )
        parser.add_argument("--symbols", type=int, default=0, help="first N symbols (0 = all)")
        parser.add_argument(
            "--model",
            action="append",
            type=_model_dir,
            default=[],
            metavar="KIND=DIR",
            help="serve this artifact directory instead of the active version of KIND",
        )
        parser.add_argument("--database", default="replay_eval", help="scratch database name")
        parser.add_argument(
            "--keep-database",
            action="store_true",
            help="keep the scratch database and its scored records (skips the baseline pass)",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["start"] > opts["end"]:
            raise CommandError("--from is after --to")
        options = ReplayOptions(
            start=opts["start"],
            end=opts["end"],
            adapt=not opts["no_adapt"],
            baseline=not opts["no_baseline"],
            prices=opts["prices"],
            symbols=opts["symbols"],
            models=dict(opts["model"]),
            database=opts["database"],
            keep_database=opts["keep_database"],
        )
        result = run(options)
        result["machine"] = machine_info()
        self.stdout.write(json.dumps(result, indent=None if opts["json"] else 2, default=str))
