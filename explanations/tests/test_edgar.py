"""The EDGAR client against recorded EDGAR responses served over real HTTP (EDGAR itself is
unreachable here; see ``edgar_recorded`` for how the payloads were reconstructed)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from explanations.edgar import EdgarClient, EdgarError, extract_section
from explanations.sources.edgar_filings import iter_edgar
from explanations.tests import edgar_recorded as rec

UA = "StockPred test suite tests@example.org"


def edgar_routes(submission_status: list[int] | None = None) -> dict:
    statuses = list(submission_status or [])

    def submissions(_request):
        status = statuses.pop(0) if statuses else 200
        body = rec.read("submissions.json") if status == 200 else b"Too Many Requests"
        return status, {"Content-Type": "application/json"}, body

    def doc(name):
        return lambda _request: (200, {"Content-Type": "text/html"}, rec.read(name))

    folder = "/Archives/edgar/data/1045810/"
    return {
        ("GET", f"/submissions/CIK{rec.CIK}.json"): submissions,
        ("GET", folder + rec.TEN_K["accession"].replace("-", "") + "/" + rec.TEN_K["document"]): (
            doc("10k.htm")
        ),
        ("GET", folder + rec.TEN_Q["accession"].replace("-", "") + "/" + rec.TEN_Q["document"]): (
            doc("10q.htm")
        ),
    }


def test_it_lists_filings_from_the_submissions_json(http_server):
    base, recorder = http_server(edgar_routes())
    with EdgarClient(data_url=base, archives_url=base, user_agent=UA) as client:
        ten_k = client.latest(1045810, "10-K")
        ten_q = client.latest("1045810", "10-Q")
    assert ten_k.accession_number == rec.TEN_K["accession"]
    assert ten_k.filing_date == date(2025, 2, 26)
    assert ten_k.report_date == date(2025, 1, 26)
    assert ten_q.primary_document == rec.TEN_Q["document"]  # the newest of two 10-Qs
    assert recorder.requests[0]["path"] == f"/submissions/CIK{rec.CIK}.json"
    assert all(r["headers"]["User-Agent"] == UA for r in recorder.requests)


def test_it_extracts_risk_factors_and_mdna_not_the_table_of_contents(http_server):
    base, _ = http_server(edgar_routes())
    with EdgarClient(data_url=base, archives_url=base, user_agent=UA) as client:
        risk = extract_section(client.document(client.latest(rec.CIK, "10-K")), "10-K")
        mdna = extract_section(client.document(client.latest(rec.CIK, "10-Q")), "10-Q")
    assert risk.startswith("The following risk factors")
    assert "export controls" in risk
    assert "Unresolved Staff Comments" not in risk and "Cybersecurity" not in risk
    assert "accelerated computing to help solve" not in risk  # Item 1, before the section
    assert "Revenue for the first quarter of fiscal year 2026 was $44.1 billion" in mdna
    assert "no material changes in our market risk" not in mdna


def test_it_retries_when_edgar_throttles(http_server):
    base, recorder = http_server(edgar_routes(submission_status=[429]))
    with EdgarClient(data_url=base, archives_url=base, user_agent=UA, backoff=0.01) as client:
        assert client.latest(rec.CIK, "10-K") is not None
    assert len(recorder.requests) == 2


def test_it_gives_up_on_errors(http_server):
    base, _ = http_server(edgar_routes(submission_status=[429, 429, 429]))
    with (
        EdgarClient(
            data_url=base, archives_url=base, user_agent=UA, retries=3, backoff=0.01
        ) as client,
        pytest.raises(EdgarError),
    ):
        client.submissions(rec.CIK)


def test_it_keeps_to_ten_requests_per_second(http_server):
    base, recorder = http_server(edgar_routes())
    with EdgarClient(data_url=base, archives_url=base, user_agent=UA) as client:
        for _ in range(6):
            client.submissions(rec.CIK)
    times = [r["time"] for r in recorder.requests]
    # Six requests at no more than 10 per second span at least 0.5 s (minus arrival jitter).
    assert times[-1] - times[0] >= 0.45


@pytest.mark.django_db
def test_it_builds_knowledge_base_documents(http_server):
    from ingestion.models import Symbol

    Symbol.objects.create(ticker="NVDA", cik=rec.CIK)
    base, _ = http_server(edgar_routes())
    with override_settings(EDGAR_DATA_URL=base, EDGAR_ARCHIVES_URL=base, EDGAR_USER_AGENT=UA):
        specs = list(iter_edgar(symbols=["NVDA"]))
    assert [s.filing_type for s in specs] == ["10-K", "10-Q"]
    ten_k = specs[0]
    assert ten_k.external_id == f"NVDA_10-K_{rec.TEN_K['accession']}"
    assert ten_k.section == "Item 1A. Risk Factors"
    assert ten_k.date == date(2025, 2, 26)
    assert ten_k.url.endswith(rec.TEN_K["document"])
    assert any("foundries" in c.text for c in ten_k.chunks)


@pytest.mark.django_db
def test_it_indexes_filings_through_the_command(http_server):
    import io
    import json

    from django.core.management import call_command

    from explanations.models import Chunk
    from ingestion.models import Symbol

    Symbol.objects.create(ticker="NVDA", cik=rec.CIK)
    base, _ = http_server(edgar_routes())
    with override_settings(EDGAR_DATA_URL=base, EDGAR_ARCHIVES_URL=base, EDGAR_USER_AGENT=UA):
        for expected in (2, 0):  # the second run finds both filings unchanged
            out = io.StringIO()
            call_command("index_documents", "--source", "edgar", "--mode", "inline", stdout=out)
            assert json.loads(out.getvalue())["indexed"] == expected
    sections = set(Chunk.objects.filter(source="edgar").values_list("section", flat=True))
    assert sections == {"Item 1A. Risk Factors", "Item 2. MD&A"}
