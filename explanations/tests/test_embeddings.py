"""The encoders of the knowledge base: the bf16 one agrees with the reference on real transcript
chunks, falls back to ONNX fp32 on a CPU without bf16, and the settings reject unknown names."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings

from explanations import embeddings
from explanations.embeddings import cpu_flags, cpu_has_bf16, embed, embed_one, resolve

QUERIES = [
    "revenue growth and demand outlook",
    "guidance for the next quarter",
    "share buybacks and dividends",
]


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    from explanations.sources.transcripts import iter_transcripts

    spec = next(iter_transcripts(limit=1))
    return [c.text for c in spec.chunks][:16]


def _cpuinfo(tmp_path: Path, drop: set[str]) -> Path:
    """This machine's /proc/cpuinfo with some flags removed: a CPU of the same kind without
    them (the fallback cannot be exercised otherwise on a CPU that has bf16)."""
    lines = []
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, sep, value = line.partition(":")
        if key.strip() == "flags":
            value = " " + " ".join(f for f in value.split() if f not in drop)
        lines.append(key + sep + value)
    path = tmp_path / "cpuinfo"
    path.write_text("\n".join(lines) + "\n")
    return path


def _top3(queries: np.ndarray, chunk_vectors: np.ndarray) -> list[list[int]]:
    scores = queries @ chunk_vectors.T
    return [np.argsort(-row, kind="stable")[:3].tolist() for row in scores]


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")
@pytest.mark.parametrize("drop", [set(), {embeddings.AMX_FLAG}], ids=["as-is", "without-amx"])
def test_it_runs_bf16_and_agrees_with_the_reference_on_real_chunks(
    chunks, drop, tmp_path, monkeypatch
):
    # Both batchings (padded on AMX, one length without it) on this CPU.
    monkeypatch.setattr(embeddings, "CPUINFO", _cpuinfo(tmp_path, drop))
    assert resolve("torch-bf16") == "torch-bf16"
    reference = embed(chunks, encoder="torch")
    fast = embed(chunks, encoder="torch-bf16")
    cosines = np.sum(reference * fast, axis=1)
    assert cosines.min() > 0.9995, cosines
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert _top3(embed(QUERIES, encoder="torch-bf16"), fast) == _top3(
        embed(QUERIES, encoder="torch"), reference
    )


def test_it_falls_back_to_onnx_fp32_on_a_cpu_without_bf16(chunks, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "CPUINFO", _cpuinfo(tmp_path, set(embeddings.BF16_FLAGS)))
    monkeypatch.setattr(embeddings, "_fallback_logged", False)
    assert not cpu_has_bf16()
    with caplog.at_level(logging.WARNING, logger="explanations.embeddings"):
        assert resolve("torch-bf16") == "onnx"
        vectors = embed(chunks[:4], encoder="torch-bf16")
    assert "using onnx" in caplog.text
    np.testing.assert_array_equal(vectors, embed(chunks[:4], encoder="onnx"))
    assert resolve("onnx-int8") == "onnx-int8"  # only torch-bf16 falls back


def test_it_reads_the_flags_of_a_real_cpuinfo(tmp_path):
    flags = cpu_flags()
    assert "sse2" in flags or not Path("/proc/cpuinfo").exists()
    with_bf16 = tmp_path / "bf16"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    assert cpu_has_bf16(with_bf16)
    assert not cpu_has_bf16(tmp_path / "missing")


def test_it_batches_bf16_by_the_kind_of_cpu(tmp_path):
    avx512 = tmp_path / "avx512"
    avx512.write_text("flags\t\t: fpu sse2 avx512f avx512_bf16\n")
    amx = tmp_path / "amx"
    amx.write_text("flags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile amx_bf16\n")
    assert embeddings.bf16_batching(avx512) == embeddings.Batching(one_length=True)
    assert embeddings.bf16_batching(amx) == embeddings.Batching(
        one_length=False, width_multiple=16, full_rows=True
    )


def test_it_pads_batches_to_a_width_multiple_without_changing_the_vectors(chunks):
    onnx_forward = embeddings._onnx_forward("onnx")
    widths: list[int] = []

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        widths.append(ids.shape[1])
        return onnx_forward(ids, mask)

    tight = embeddings._batched_embed(chunks, forward, 4, None, embeddings.Batching(False))
    tight_widths, widths[:] = list(widths), []
    padded = embeddings._batched_embed(chunks, forward, 4, None, embeddings.Batching(False, 16))
    assert any(w % 16 for w in tight_widths)
    assert all(w % 16 == 0 and w - 16 < t <= w for w, t in zip(widths, tight_widths, strict=True))
    np.testing.assert_allclose(padded, tight, atol=2e-5)
    rows: list[int] = []

    def counting(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        rows.append(ids.shape[0])
        return onnx_forward(ids, mask)

    filled = embeddings._batched_embed(
        chunks[:7], counting, 4, None, embeddings.Batching(False, 16, full_rows=True)
    )
    assert rows == [4, 4]  # the short last batch (3 texts) got a filler row
    plain = embeddings.Batching(False)
    unfilled = embeddings._batched_embed(chunks[:7], onnx_forward, 4, None, plain)
    np.testing.assert_allclose(filled, unfilled, atol=2e-5)


def test_it_compiles_every_padded_shape_once():
    shapes: list[tuple[int, int]] = []

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(ids.shape)
        assert not mask.all() and mask.any(axis=1).all()  # masked, no row all padding
        return np.zeros((*ids.shape, embeddings.DIM), dtype=np.float32)

    embeddings._compile_shapes(forward, 32, 16)
    assert shapes == [(32, w) for w in range(16, embeddings.MAX_TOKENS + 1, 16)]


@override_settings(EMBEDDING_QUERY_ENCODER="onnx", EMBEDDING_ENCODER="torch-bf16")
def test_it_embeds_a_query_with_the_query_encoder():
    text = "NVDA guidance for the next quarter"
    np.testing.assert_array_equal(embed_one(text), embed([text], encoder="onnx")[0])


@override_settings(EMBEDDING_ENCODER="fp8")
def test_it_rejects_an_unknown_encoder_setting():
    with pytest.raises(ValueError, match="EMBEDDING_ENCODER must be one of"):
        embed(["text"])


@pytest.mark.parametrize("name", ["EMBEDDING_ENCODER", "EMBEDDING_QUERY_ENCODER"])
def test_it_refuses_to_start_with_an_unknown_encoder_in_the_environment(name):
    env = dict(os.environ, **{name: "fp8"})
    done = subprocess.run(
        [sys.executable, "-c", "import config.settings.base"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"{name}='fp8' must be one of" in done.stderr


def test_it_batches_texts_of_one_length_together_when_asked():
    from explanations.embeddings import _batches

    lengths = [5, 3, 5, 9, 3, 3, 5, 9]
    batches = _batches(lengths, 2, one_length=True)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len({lengths[i] for i in b}) == 1 and len(b) <= 2 for b in batches)
    assert [lengths[b[0]] for b in batches] == [3, 3, 5, 5, 9]
    padded = _batches(lengths, 2, one_length=False)
    assert [len(b) for b in padded] == [2, 2, 2, 2]
    assert {lengths[i] for i in padded[1]} == {3, 5}  # mixed lengths, padded to the longest
