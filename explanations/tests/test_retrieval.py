"""Retrieval over pgvector: the symbol filter, relevance ordering, the as-of date filter."""

from __future__ import annotations

from datetime import date

import pytest

from explanations.indexing import index_source
from explanations.retrieval import retrieve


@pytest.fixture(scope="module")
def kb_module(django_db_setup, django_db_blocker):
    """Indexed once for the module (embedding is the slow part): one transcript each of two
    companies plus the playbooks; removed afterwards."""
    from explanations.models import Document

    with django_db_blocker.unblock():
        index_source("transcripts", symbols=["JCI"], limit=1)
        index_source("transcripts", symbols=["SXI"], limit=1)
        index_source("playbooks")
    yield
    with django_db_blocker.unblock():
        Document.objects.all().delete()


@pytest.fixture
def kb(kb_module, db):
    return None


def test_it_filters_by_symbol_and_adds_playbooks(kb):
    excerpts, elapsed_ms = retrieve("building HVAC demand and order backlog", symbol="JCI", k=6)
    assert elapsed_ms > 0
    symbol_rows = [e for e in excerpts if e.source != "playbook"]
    assert symbol_rows and {e.symbol for e in symbol_rows} == {"JCI"}
    assert [e.relevance for e in excerpts] == sorted((e.relevance for e in excerpts), reverse=True)
    assert len({e.document_id for e in excerpts}) == len(excerpts)  # one excerpt per document


def test_it_ranks_the_relevant_playbook_first(kb):
    excerpts, _ = retrieve("what does the p10 to p90 interval and sigma mean", k=3)
    assert excerpts[0].title == "Playbook: Reading prediction intervals"
    source = excerpts[0].as_source()
    assert set(source) >= {"title", "excerpt", "relevance"}
    assert 0 < source["relevance"] <= 1


def test_it_excludes_documents_dated_after_the_as_of_date(kb):
    everything, _ = retrieve("quarterly results", symbol="SXI", k=8)
    dated = [e.date for e in everything if e.date]
    assert dated
    cutoff = min(dated)
    early, _ = retrieve("quarterly results", symbol="SXI", k=8, as_of=cutoff)
    assert all(e.date is None or e.date <= cutoff for e in early)
    assert not retrieve("quarterly results", symbol="SXI", as_of=date(2000, 1, 1))[0] or all(
        e.source == "playbook" for e in retrieve("q", symbol="SXI", as_of=date(2000, 1, 1))[0]
    )
