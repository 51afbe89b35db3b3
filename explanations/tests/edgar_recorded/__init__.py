"""Recorded SEC EDGAR responses for the EDGAR client tests.

EDGAR cannot be reached from the machines this project is built on, so these payloads are
RECONSTRUCTIONS, written by hand in EDGAR's real formats: ``submissions.json`` follows the
structure of ``https://data.sec.gov/submissions/CIK##########.json`` (company fields plus
``filings.recent`` as parallel arrays, newest first; many columns and rows trimmed); the two
HTML files follow the layout of inline-XBRL 10-K and 10-Q primary documents (hidden ix:header,
a table of contents that repeats the item headings, item headings in styled divs/spans, the
body in paragraphs). The company and form structure are real (NVIDIA Corp, CIK 1045810); the
accession numbers are in EDGAR's format but illustrative, and the section texts are condensed
paraphrases, not verbatim filing text.
"""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent
CIK = "0001045810"
TEN_K = {
    "accession": "0001045810-25-000023",
    "document": "nvda-20250126.htm",
    "filed": "2025-02-26",
}
TEN_Q = {
    "accession": "0001045810-25-000116",
    "document": "nvda-20250427.htm",
    "filed": "2025-05-28",
}


def read(name: str) -> bytes:
    return (DIR / name).read_bytes()
