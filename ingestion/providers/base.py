"""The provider interface, split like OpenBB's fetchers: a ``BarQuery`` goes through
``extract`` (talk to the source, return its raw payload) and ``transform`` (turn that payload into
a bar frame, see ``ingestion.frames``). Validation and storage happen after, in
``ingestion.pipeline``, identically for every provider: the rest of the platform never knows
which one ran."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd


@dataclass(frozen=True)
class BarQuery:
    symbols: tuple[str, ...] | None = None  # None = every symbol the source has
    start: dt.date | None = None
    end: dt.date | None = None
    interval: str = "1d"
    file: Path | None = None  # replay: which price file
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(ABC):
    name: ClassVar[str]

    @abstractmethod
    def extract(self, query: BarQuery) -> Any:
        """Fetch the raw data for ``query`` from the source."""

    @abstractmethod
    def transform(self, query: BarQuery, raw: Any) -> pd.DataFrame:
        """Turn the raw data into a bar frame (no validation here: bad bars must reach the
        validator so they are quarantined, not silently dropped)."""

    def fetch(self, query: BarQuery) -> pd.DataFrame:
        return self.transform(query, self.extract(query))

    def report(self) -> dict[str, Any]:
        """Provider-specific figures for the run summary (requests, retries, cache hits...)."""
        return {}
