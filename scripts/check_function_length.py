"""Fail when a source function is longer than the limit (the code-health rule of issue 12).

Benchmarks, migrations and tests are exempt: a benchmark is a script of measurements, and a
migration is generated. Usage: ``python scripts/check_function_length.py [--max 60] [PATHS]``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

EXEMPT_PARTS = {"migrations", "tests", "benchmarks", ".venv", "node_modules", "var"}
DEFAULT_ROOTS = (
    "accounts", "config", "core", "explanations", "features", "ingestion", "ops",
    "predictions", "web", "worker", "scripts",
)  # fmt: skip


def python_files(roots: list[str]) -> Iterator[Path]:
    for root in roots:
        path = Path(root)
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if EXEMPT_PARTS.isdisjoint(file.parts) and file.stem != "benchmarks":
                yield file


def long_functions(file: Path, limit: int) -> Iterator[tuple[int, str, int]]:
    tree = ast.parse(file.read_text(), filename=str(file))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > limit:
                yield node.lineno, node.name, length


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=60)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    roots = args.paths or [r for r in DEFAULT_ROOTS if Path(r).exists()]
    failures = [
        f"{file}:{line}: {name} is {length} lines (max {args.max})"
        for file in python_files(roots)
        for line, name, length in long_functions(file, args.max)
    ]
    print("\n".join(failures) or f"no function longer than {args.max} lines")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
