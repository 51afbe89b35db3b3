"""Internal playbooks: Markdown documents in ``explanations/playbooks/``, one per topic, split by
their ``##`` sections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from explanations.chunking import chunk_sections
from explanations.sources.base import DocumentSpec

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent / "playbooks"


def parse_playbook(path: Path) -> DocumentSpec:
    text = path.read_text(encoding="utf-8")
    title_match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    title = title_match.group(1).strip() if title_match else path.stem.replace("_", " ")
    sections: list[tuple[str, str]] = []
    current_title = "Overview"
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            if current:
                sections.append((current_title, "\n".join(current)))
            current_title, current = line[3:].strip(), []
        else:
            # Markdown list markers and emphasis carry no meaning for the embedding.
            cleaned = re.sub(r"^\s*([-*]|\d+\.)\s+", "", line).replace("**", "")
            if cleaned.strip():
                current.append(cleaned)
    if current:
        sections.append((current_title, "\n".join(current)))
    return DocumentSpec(
        source="playbook",
        external_id=path.stem,
        title=f"Playbook: {title}",
        chunks=chunk_sections(sections),
        section="Playbook",
        metadata={"file": f"explanations/playbooks/{path.name}"},
    )


def iter_playbooks(directory: Path = PLAYBOOK_DIR) -> Iterator[DocumentSpec]:
    for path in sorted(directory.glob("*.md")):
        yield parse_playbook(path)
