"""Benchmark registry behind ``python manage.py bench NAME``.

Each app declares its benchmarks in ``<app>/benchmarks.py``::

    class IngestBenchmark(Benchmark):
        name = "ingest"
        help = "Backfill and one live cycle"

        def add_arguments(self, parser): parser.add_argument("--symbols", type=int, default=5000)
        def run(self, options) -> dict: return {"backfill_rows_per_s": ..., "cycle_ms": ...}

    BENCHMARKS = [IngestBenchmark]

``<app>/benchmarks/`` may also be a package whose submodules each declare ``BENCHMARKS``.
``bench`` adds the machine description and prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any, ClassVar

from django.apps import apps


class Benchmark:
    name: ClassVar[str]
    help: ClassVar[str] = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # pragma: no cover - default
        pass

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def discover() -> dict[str, type[Benchmark]]:
    found: dict[str, type[Benchmark]] = {}
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.benchmarks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.benchmarks":
                continue
            raise
        modules = [module]
        if hasattr(module, "__path__"):  # a package: every submodule may declare benchmarks
            modules += [
                importlib.import_module(f"{module.__name__}.{info.name}")
                for info in pkgutil.iter_modules(module.__path__)
            ]
        for mod in modules:
            for bench in getattr(mod, "BENCHMARKS", []):
                if bench.name in found:
                    raise RuntimeError(f"Benchmark {bench.name!r} is declared twice")
                found[bench.name] = bench
    return found
