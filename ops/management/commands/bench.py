"""``python manage.py bench NAME [options]``: run one benchmark and print one JSON object."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.benchmarks import discover
from core.machine import machine_info


class Command(BaseCommand):
    help = "Run a benchmark and print its figures as JSON (with the machine it ran on)."

    def add_arguments(self, parser: CommandParser) -> None:
        self._benchmarks = discover()
        subparsers = parser.add_subparsers(dest="benchmark", metavar="NAME")
        subparsers.required = True
        for name, bench_cls in sorted(self._benchmarks.items()):
            sub = subparsers.add_parser(name, help=bench_cls.help)
            sub.add_argument("--json", action="store_true", help="Print JSON (the only format)")
            bench_cls().add_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["benchmark"]
        bench_cls = self._benchmarks.get(name)
        if bench_cls is None:
            raise CommandError(f"Unknown benchmark {name!r}; known: {sorted(self._benchmarks)}")
        started = time.perf_counter()
        figures = bench_cls().run(options)
        result = {
            "benchmark": name,
            **figures,
            "wall_s": round(time.perf_counter() - started, 2),
            "machine": machine_info(),
        }
        self.stdout.write(json.dumps(result, indent=2, default=str))
