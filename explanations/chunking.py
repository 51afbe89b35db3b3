"""Split documents into overlapping chunks of whole sentences.

all-MiniLM-L6-v2 truncates its input at 256 word pieces, so chunks stay near 140 words (about
190 word pieces) and share their last sentence with the next chunk so that an idea cut at a
boundary is still retrievable from one chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TARGET_WORDS = 140
OVERLAP_SENTENCES = 1

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return sentences


@dataclass(frozen=True)
class TextChunk:
    text: str
    section: str


def chunk_sentences(
    sentences: list[str],
    *,
    section: str = "",
    target_words: int = TARGET_WORDS,
    overlap: int = OVERLAP_SENTENCES,
) -> list[TextChunk]:
    chunks: list[TextChunk] = []
    current: list[str] = []
    words = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and words + n > target_words:
            chunks.append(TextChunk(" ".join(current), section))
            current = current[-overlap:] if overlap else []
            words = sum(len(s.split()) for s in current)
        current.append(sentence)
        words += n
    if current and (not chunks or len(current) > overlap):
        chunks.append(TextChunk(" ".join(current), section))
    return chunks


def chunk_sections(sections: list[tuple[str, str]], **kwargs: Any) -> list[TextChunk]:
    """Chunk each (section title, text) pair separately so no chunk spans two sections."""
    out: list[TextChunk] = []
    for title, text in sections:
        out.extend(chunk_sentences(split_sentences(text), section=title, **kwargs))
    return out
