"""SEC EDGAR filings: the latest 10-K's Risk Factors and the latest 10-Q's MD&A per symbol.

Symbols and CIKs come from ``ingestion.Symbol.cik``, else from the shared S&P 500 constituents
list. Network failures are reported per symbol by the indexer rather than stopping the run.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator

from django.conf import settings

from explanations.chunking import chunk_sections
from explanations.edgar import SECTION_TITLES, EdgarClient, EdgarError, extract_section
from explanations.sources.base import DocumentSpec

log = logging.getLogger(__name__)


def ciks(symbols: list[str] | None) -> dict[str, str]:
    from ingestion.models import Symbol

    found: dict[str, str] = {}
    rows = Symbol.objects.exclude(cik="")
    if symbols:
        rows = rows.filter(ticker__in=symbols)
    found.update(rows.values_list("ticker", "cik"))
    if not found:
        path = settings.SHARED_DATA_DIR / "reference" / "sp500_constituents_2026-08-08.csv"
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                lower = {k.lower(): v for k, v in row.items()}
                ticker = lower.get("symbol", "")
                cik = lower.get("cik", "")
                if ticker and cik and (not symbols or ticker in symbols):
                    found[ticker] = cik
    return found


def filing_document(symbol: str, client: EdgarClient, cik: str, form: str) -> DocumentSpec | None:
    filing = client.latest(cik, form)
    if filing is None:
        return None
    section = extract_section(client.document(filing), form)
    if not section:
        log.warning("%s %s %s: section not found", symbol, form, filing.accession_number)
        return None
    title = SECTION_TITLES[form]
    return DocumentSpec(
        source="edgar",
        external_id=f"{symbol}_{form}_{filing.accession_number}",
        title=f"{symbol} {form} {title} (filed {filing.filing_date})",
        chunks=chunk_sections([(title, section)]),
        symbol=symbol,
        filing_type=form,
        section=title,
        date=filing.filing_date,
        url=filing.url,
        metadata={
            "cik": filing.cik,
            "accession_number": filing.accession_number,
            "report_date": filing.report_date.isoformat() if filing.report_date else None,
        },
    )


def iter_edgar(
    *, symbols: list[str] | None = None, limit: int | None = None, client: EdgarClient | None = None
) -> Iterator[DocumentSpec]:
    owned = client is None
    client = client or EdgarClient()
    try:
        for n, (symbol, cik) in enumerate(sorted(ciks(symbols).items())):
            if limit is not None and n >= limit:
                break
            for form in ("10-K", "10-Q"):
                try:
                    spec = filing_document(symbol, client, cik, form)
                except EdgarError as exc:
                    log.warning("EDGAR %s %s: %s", symbol, form, exc)
                    continue
                if spec is not None:
                    yield spec
    finally:
        if owned:
            client.close()
