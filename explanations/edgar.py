"""A small client for SEC EDGAR: company submissions and filing documents, with the section
extraction the knowledge base needs (10-K Item 1A Risk Factors, 10-Q Item 2 MD&A).

EDGAR's fair-access rules: every request carries a User-Agent naming the requester and a contact
address (``EDGAR_USER_AGENT``), and a client makes at most 10 requests per second. Endpoints:
- ``{EDGAR_DATA_URL}/submissions/CIK##########.json`` (10-digit zero-padded CIK): company
  metadata and ``filings.recent``, parallel arrays (accessionNumber, filingDate, reportDate,
  form, primaryDocument, ...), newest first.
- ``{EDGAR_ARCHIVES_URL}/Archives/edgar/data/{cik}/{accession without dashes}/{primaryDocument}``:
  the filing's main HTML document.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from explanations import conf

MAX_REQUESTS_PER_SECOND = 10.0


class EdgarError(RuntimeError):
    pass


@dataclass(frozen=True)
class Filing:
    cik: str
    form: str
    accession_number: str
    filing_date: date
    report_date: date | None
    primary_document: str

    @property
    def url(self) -> str:
        base = conf.get("EDGAR_ARCHIVES_URL").rstrip("/")
        folder = self.accession_number.replace("-", "")
        return f"{base}/Archives/edgar/data/{int(self.cik)}/{folder}/{self.primary_document}"


class RateLimiter:
    """At most ``rate`` calls per second across the threads of this process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


_limiter = RateLimiter(MAX_REQUESTS_PER_SECOND)


class EdgarClient:
    def __init__(
        self,
        *,
        data_url: str | None = None,
        archives_url: str | None = None,
        user_agent: str | None = None,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        self.data_url = (data_url or conf.get("EDGAR_DATA_URL")).rstrip("/")
        self.archives_url = (archives_url or conf.get("EDGAR_ARCHIVES_URL")).rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(
            timeout=timeout,
            headers={
                "User-Agent": user_agent or conf.get("EDGAR_USER_AGENT"),
                "Accept-Encoding": "gzip, deflate",
            },
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EdgarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, url: str) -> httpx.Response:
        last: Exception | None = None
        for attempt in range(self.retries):
            _limiter.wait()
            try:
                response = self._http.get(url)
            except httpx.TransportError as exc:
                last = exc
            else:
                # 429/503: EDGAR's throttle answer; back off and retry.
                if response.status_code in (429, 503):
                    last = EdgarError(f"{url}: HTTP {response.status_code}")
                    time.sleep(min(self.backoff * 2.0**attempt, 10.0))
                    continue
                if response.status_code != 200:
                    raise EdgarError(f"{url}: HTTP {response.status_code}")
                return response
        raise EdgarError(f"{url}: failed after {self.retries} attempts: {last}")

    def submissions(self, cik: str | int) -> dict[str, Any]:
        payload: dict[str, Any] = self._get(
            f"{self.data_url}/submissions/CIK{int(cik):010d}.json"
        ).json()
        return payload

    def filings(self, cik: str | int, forms: tuple[str, ...] = ("10-K", "10-Q")) -> list[Filing]:
        data = self.submissions(cik)
        recent = data.get("filings", {}).get("recent", {})
        out: list[Filing] = []
        for i, form in enumerate(recent.get("form", [])):
            if form not in forms:
                continue
            report = recent.get("reportDate", [""] * (i + 1))[i]
            out.append(
                Filing(
                    cik=f"{int(data.get('cik', cik)):010d}",
                    form=form,
                    accession_number=recent["accessionNumber"][i],
                    filing_date=date.fromisoformat(recent["filingDate"][i]),
                    report_date=date.fromisoformat(report) if report else None,
                    primary_document=recent["primaryDocument"][i],
                )
            )
        return out

    def latest(self, cik: str | int, form: str) -> Filing | None:
        matches = [f for f in self.filings(cik, (form,)) if f.form == form]
        return max(matches, key=lambda f: f.filing_date) if matches else None

    def document(self, filing: Filing) -> str:
        url = filing.url.replace(conf.get("EDGAR_ARCHIVES_URL").rstrip("/"), self.archives_url, 1)
        return self._get(url).text


# --- Section extraction -------------------------------------------------------------------

_ITEM_PATTERNS = {
    # form: (start heading, end headings)
    "10-K": (
        r"item\s*1a\.?\s*[-:\u2014\u2013]?\s*risk\s+factors",
        r"item\s*(1b|1c|2)\.?\s*[-:\u2014\u2013]?\s*\w",
    ),
    "10-Q": (
        r"item\s*2\.?\s*[-:\u2014\u2013]?\s*management['\u2019`s]*\s+discussion\s+and\s+analysis",
        r"item\s*(3|4)\.?\s*[-:\u2014\u2013]?\s*\w",
    ),
}
SECTION_TITLES = {"10-K": "Item 1A. Risk Factors", "10-Q": "Item 2. MD&A"}


def html_to_text(html: str) -> str:
    """Visible text with one block element per line (tables and hidden XBRL headers dropped)."""
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    # Inline-XBRL documents are XHTML with an XML declaration; the HTML parser reads them fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "head", "ix:header"]):
        tag.decompose()
    for tag in soup.find_all(style=re.compile(r"display:\s*none", re.I)):
        tag.decompose()
    text = soup.get_text("\n")
    lines = [re.sub(r"[\s\xa0]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def extract_section(html: str, form: str) -> str:
    """The body of the form's section. A table of contents lists the same headings first, so
    the longest span between a start heading and the next end heading is taken."""
    start_pat, end_pat = _ITEM_PATTERNS[form]
    text = html_to_text(html)
    starts = list(re.finditer(start_pat, text, re.IGNORECASE))
    best = ""
    for start in starts:
        end = re.compile(end_pat, re.IGNORECASE).search(text, start.end())
        body = text[start.end() : end.start() if end else len(text)].strip()
        if len(body) > len(best):
            best = body
    return best
