"""Earnings-call transcripts of the ECTSum data set, read in place from the shared tar.gz.

Files are ``data/final/{train,val,test}/ects/TICKER_qN_YYYY.txt`` with one sentence per line. The
file name gives the symbol and the quarter; the call itself happens some weeks after the quarter
ends, so ``date`` is the last day of the named calendar quarter (an approximation, kept in
``metadata["date_basis"]``). Sections: the prepared remarks, then the Q&A once the operator opens
the question queue.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.conf import settings

from explanations.chunking import chunk_sentences
from explanations.sources.base import DocumentSpec

_NAME = re.compile(r"/ects/(?P<ticker>[A-Z0-9.\-]+)_q(?P<q>[1-4])_(?P<year>\d{4})\.txt$")
_QA_START = re.compile(
    r"(question-and-answer|question and answer|open (up )?the (call|line|floor) for questions|"
    r"first question|take (your|our) first question)",
    re.IGNORECASE,
)
_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


def transcripts_path() -> Path:
    return settings.SHARED_DATA_DIR / "text" / "earnings_call_transcripts_ectsum.tar.gz"


def _sections(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, line in enumerate(lines):
        if i > 5 and _QA_START.search(line):
            return lines[:i], lines[i:]
    return lines, []


def parse_transcript(name: str, text: str) -> DocumentSpec | None:
    match = _NAME.search(name)
    if not match:
        return None
    ticker, quarter, year = match["ticker"], int(match["q"]), int(match["year"])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    prepared, qa = _sections(lines)
    chunks = chunk_sentences(prepared, section="Prepared remarks") + chunk_sentences(
        qa, section="Q&A"
    )
    month, day = _QUARTER_END[quarter]
    external_id = f"{ticker}_q{quarter}_{year}"
    return DocumentSpec(
        source="transcript",
        external_id=external_id,
        title=f"{ticker} Q{quarter} {year} earnings call",
        chunks=chunks,
        symbol=ticker,
        filing_type="transcript",
        section="Earnings call",
        date=date(year, month, day),
        metadata={
            "quarter": f"Q{quarter} {year}",
            "file": name.lstrip("./"),
            "date_basis": "end of the named calendar quarter",
            "dataset": "ECTSum (EMNLP 2022, GPL-3.0)",
        },
    )


def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    return sorted(
        (m for m in tar.getmembers() if m.isfile() and _NAME.search(m.name)),
        key=lambda m: (Path(m.name).name, m.name),
    )


def transcript_ids(path: Path | None = None) -> list[str]:
    """The external ids of every transcript in the data set, in order, from the file names
    alone (nothing is extracted)."""
    with tarfile.open(path or transcripts_path(), "r:gz") as tar:
        return list(dict.fromkeys(Path(m.name).stem for m in _members(tar)))


def iter_transcripts(
    *,
    limit: int | None = None,
    symbols: list[str] | None = None,
    path: Path | None = None,
    after: str | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> Iterator[DocumentSpec]:
    """Transcripts in a stable order (sorted by file name). The same quarter can appear in two
    splits of the data set; the first one wins so external ids stay unique. ``after`` (an
    external id) and ``exclude`` skip transcripts by file name, before reading them: the
    background index chain resumes where it stopped and passes over stored ones."""
    wanted = {s.upper() for s in symbols} if symbols else None
    seen: set[str] = set()
    count = 0
    with tarfile.open(path or transcripts_path(), "r:gz") as tar:
        for member in _members(tar):
            match = _NAME.search(member.name)
            assert match is not None
            if wanted is not None and match["ticker"] not in wanted:
                continue
            stem = Path(member.name).stem
            if (after is not None and stem <= after) or stem in exclude:
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            spec = parse_transcript(member.name, fh.read().decode("utf-8", errors="replace"))
            if spec is None or spec.external_id in seen:
                continue
            seen.add(spec.external_id)
            yield spec
            count += 1
            if limit is not None and count >= limit:
                return
