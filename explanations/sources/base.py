"""The unit the indexer works on: one document with its chunks already cut."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from explanations.chunking import TextChunk


@dataclass
class DocumentSpec:
    source: str  # a DocumentSource value
    external_id: str
    title: str
    chunks: list[TextChunk]
    symbol: str = ""
    filing_type: str = ""
    section: str = ""
    date: date | None = None
    url: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Changes whenever anything stored for the document would change, so an unchanged
        document is skipped on re-indexing and a changed one is re-embedded."""
        payload = {
            "title": self.title,
            "symbol": self.symbol,
            "filing_type": self.filing_type,
            "section": self.section,
            "date": self.date.isoformat() if self.date else None,
            "url": self.url,
            "metadata": self.metadata,
            "chunks": [[c.section, c.text] for c in self.chunks],
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for a Celery message."""
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        data["chunks"] = [[c.section, c.text] for c in self.chunks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentSpec:
        data = dict(data)
        data["date"] = date.fromisoformat(data["date"]) if data.get("date") else None
        data["chunks"] = [TextChunk(text=t, section=s) for s, t in data["chunks"]]
        return cls(**data)
