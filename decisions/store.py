"""Owner of the stored backtest results: ``BACKTEST_DIR/<source>.json`` (``var/backtest``).

The ``backtest`` command writes its JSON there together with the equity curves; the
``/backtest`` page reads it (a page must not spend a minute recomputing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings


def result_path(source: str) -> Path:
    return Path(settings.BACKTEST_DIR) / f"{source}.json"


def save(source: str, result: dict[str, Any]) -> Path:
    path = result_path(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(path)
    return path


def load(source: str) -> dict[str, Any] | None:
    path = result_path(source)
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data
