"""``index_documents``: real transcripts from the shared tar, playbooks, pattern notes; a second
run changes nothing; a changed document is re-embedded."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from explanations.models import Chunk, Document


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("index_documents", *args, "--mode", "inline", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_it_indexes_transcripts_and_playbooks_idempotently():
    first = run("--source", "transcripts", "--source", "playbooks", "--limit", "2")
    assert first["indexed"] == 2 + 5 and first["unchanged"] == 0
    transcript = Document.objects.filter(source="transcript").order_by("external_id").first()
    assert transcript.symbol and transcript.metadata["quarter"].startswith("Q")
    chunks = Chunk.objects.filter(document=transcript)
    assert chunks.count() > 3 and all(len(c.embedding) == 384 for c in chunks)
    assert {c.symbol for c in chunks} == {transcript.symbol}
    state = list(Chunk.objects.order_by("id").values_list("id", "text"))
    indexed_at = list(Document.objects.order_by("id").values_list("indexed_at", flat=True))

    second = run("--source", "transcripts", "--source", "playbooks", "--limit", "2")
    assert second["indexed"] == 0 and second["unchanged"] == 7 and second["chunks_written"] == 0
    assert list(Chunk.objects.order_by("id").values_list("id", "text")) == state
    assert list(Document.objects.order_by("id").values_list("indexed_at", flat=True)) == indexed_at


@pytest.mark.django_db
def test_it_reembeds_a_changed_document(tmp_path, monkeypatch):
    from explanations.sources import playbooks

    (tmp_path / "note.md").write_text("# Note\n\n## One\nIntervals are 80% intervals.\n")
    monkeypatch.setattr(playbooks, "PLAYBOOK_DIR", tmp_path)
    monkeypatch.setattr(playbooks.iter_playbooks, "__defaults__", (tmp_path,))
    assert run("--source", "playbooks")["indexed"] == 1
    old_ids = set(Chunk.objects.values_list("id", flat=True))
    (tmp_path / "note.md").write_text("# Note\n\n## One\nEarnings days are wider.\n")
    summary = run("--source", "playbooks")
    assert summary["indexed"] == 1 and summary["unchanged"] == 0
    assert Document.objects.filter(source="playbook").count() == 1
    texts = list(Chunk.objects.values_list("text", flat=True))
    assert texts == ["Earnings days are wider."]
    assert not old_ids & set(Chunk.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_it_writes_pattern_notes_that_use_only_past_events():
    summary = run("--source", "patterns", "--symbols", "NVDA")
    assert summary["indexed"] >= 4  # 2009, 2014, 2019, 2024 and the latest event
    note_2009 = Document.objects.get(external_id="NVDA_earnings_moves_2009")
    later = Document.objects.get(external_id="NVDA_earnings_moves_2014")
    assert note_2009.date.isoformat() == "2009-12-31"
    assert note_2009.metadata["events"] < later.metadata["events"]
    text = note_2009.chunks.get().text
    assert "NVDA earnings reactions through 2009-12-31" in text


@pytest.mark.django_db(transaction=True)
def test_it_embeds_batches_on_the_index_queue(celery_worker_thread):
    out = io.StringIO()
    call_command("index_documents", "--source", "playbooks", "--batch", "2", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["sources"][0]["mode"] == "queue"  # auto mode found the worker
    assert summary["indexed"] == 5 and summary["errors"] == 0
    assert (
        Chunk.objects.filter(source="playbook", embedding__isnull=False).count()
        == (summary["chunks_written"])
    )


@pytest.mark.django_db
def test_it_queues_without_waiting_when_no_worker_runs_yet(redis_client):
    # What `make run` does before its workers start: enqueue, return, let the worker embed later.
    out = io.StringIO()
    call_command(
        "index_documents", "--source", "playbooks", "--mode", "queue", "--no-wait",
        "--batch", "2", stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())["sources"][0]
    assert summary["queued_batches"] == 3 and summary["indexed"] == 0
    # On the bulk queue, not in front of explanation requests.
    assert redis_client.llen("index") == 3 and redis_client.llen("explain") == 0
    assert not Document.objects.filter(source="playbook").exists()
