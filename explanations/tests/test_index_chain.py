"""``make run``'s background indexing of every transcript: a chain of small tasks on a real
Celery worker that continues where it stopped and passes over stored transcripts."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from explanations import indexing
from explanations.models import Document
from explanations.sources.transcripts import iter_transcripts, transcript_ids, transcripts_path

FIVE = 5


def _small_data_set(root: Path) -> list[str]:
    """The first five real transcripts in a tar of the shared layout, the first one also in a
    second split (the data set has such duplicates); returns their external ids."""
    target = root / "text" / "earnings_call_transcripts_ectsum.tar.gz"
    target.parent.mkdir(parents=True)
    ids: list[str] = []
    with tarfile.open(transcripts_path(), "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        members = sorted(
            (m for m in src.getmembers() if m.isfile() and m.name.endswith(".txt")),
            key=lambda m: Path(m.name).name,
        )
        for member in members:
            stem = Path(member.name).stem
            if stem in ids:
                continue
            data = src.extractfile(member).read()
            for split in ("train", "val") if not ids else ("train",):
                info = tarfile.TarInfo(f"data/final/{split}/ects/{stem}.txt")
                info.size = len(data)
                dst.addfile(info, io.BytesIO(data))
            ids.append(stem)
            if len(ids) == FIVE:
                break
    return ids


def _wait_for(count: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while Document.objects.filter(source="transcript").count() < count:
        assert time.monotonic() < deadline, "the chain did not index the transcripts in time"
        time.sleep(0.5)


def _background(*args: str) -> dict:
    out = io.StringIO()
    call_command(
        "index_documents", "--source", "transcripts", "--mode", "background", *args, stdout=out
    )
    return json.loads(out.getvalue())


def test_it_skips_by_file_name_before_reading(tmp_path):
    ids = _small_data_set(tmp_path)
    with override_settings(SHARED_DATA_DIR=tmp_path):
        assert transcript_ids() == ids
        specs = list(iter_transcripts(after=ids[1], exclude={ids[3]}))
    assert [s.external_id for s in specs] == [ids[2], ids[4]]


def test_it_indexes_every_missing_transcript_in_links(tmp_path, monkeypatch, celery_worker_thread):
    monkeypatch.setattr(indexing, "DOCS_PER_BATCH", 2)
    ids = _small_data_set(tmp_path)
    with override_settings(SHARED_DATA_DIR=tmp_path):
        indexing.store_batch(list(iter_transcripts(after=ids[1], limit=1)))  # ids[2] stored
        stored_chunks = list(Document.objects.get(external_id=ids[2]).chunks.values_list("id"))

        summary = _background()
        assert summary["queued"] and summary["to_index"] == FIVE - 1
        _wait_for(FIVE)
        time.sleep(1)  # a stray extra link would index nothing, but would show up below
        assert sorted(Document.objects.values_list("external_id", flat=True)) == ids
        # The stored transcript was passed over, not embedded again.
        assert list(Document.objects.get(external_id=ids[2]).chunks.values_list("id")) == (
            stored_chunks
        )
        assert _background() == {
            "source": "transcripts",
            "mode": "background",
            "documents_total": FIVE,
            "documents_in_data_set": FIVE,
            "queued": False,
        }


def test_it_stops_at_the_limit(tmp_path, monkeypatch, celery_worker_thread):
    monkeypatch.setattr(indexing, "DOCS_PER_BATCH", 2)
    ids = _small_data_set(tmp_path)
    with override_settings(SHARED_DATA_DIR=tmp_path):
        assert _background("--limit", "3")["to_index"] == 3
        _wait_for(3)
        time.sleep(3)  # time for a link that should not have been sent
    assert sorted(Document.objects.values_list("external_id", flat=True)) == ids[:3]


@pytest.mark.django_db
def test_it_refuses_background_mode_for_other_sources():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="transcripts only"):
        call_command("index_documents", "--source", "playbooks", "--mode", "background")


def test_it_sends_a_link_again_that_ran_out_of_time(redis_client, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from explanations.tasks import index_transcripts_chain

    def paused_too_long(after: str | None, remaining: int | None) -> dict:
        raise SoftTimeLimitExceeded()  # what Celery raises in the task at soft_time_limit

    monkeypatch.setattr(indexing, "index_chain_link", paused_too_long)
    redis_client.delete("index")
    assert index_transcripts_chain.run("AAPL_q1_2020", 7)["retried"] == 1
    [message] = redis_client.lrange("index", 0, -1)
    body = json.loads(message)
    assert body["headers"]["task"] == indexing.CHAIN_TASK
    assert body["headers"]["argsrepr"] == "['AAPL_q1_2020', 7]"
    redis_client.delete("index")
