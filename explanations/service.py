"""One explanation, end to end: facts -> key drivers -> retrieval -> generation -> grounding
check (regenerate once) -> template fallback -> PostgreSQL + Redis.

Depth: ``fast`` skips the language model (template, 3 sources); ``medium`` generates up to
``LLM_MAX_TOKENS`` tokens with 4 sources; ``deep`` twice the tokens, 6 sources, 8 drivers.
Generated text is returned only after it passed the check; otherwise the template is.
The regeneration gets only the tokens the latency budget (``EXPLANATION_BUDGET_MS``) still
allows, measured from the first attempt's speed, and is skipped when fewer than 24 remain.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from explanations import cache, conf
from explanations.drivers import key_drivers
from explanations.facts import Facts, load_prediction
from explanations.grounding import GroundingResult, check
from explanations.llm.base import Generation
from explanations.prompt import build_messages
from explanations.retrieval import retrieve
from explanations.template import render, uncertainties

log = logging.getLogger(__name__)

DEPTHS = {
    "fast": {"llm": False, "sources": 3, "drivers": 3, "tokens": 0, "estimate": 1},
    "medium": {"llm": True, "sources": 4, "drivers": 5, "tokens": 1, "estimate": 3},
    "deep": {"llm": True, "sources": 6, "drivers": 8, "tokens": 2, "estimate": 6},
}


class NoPrediction(LookupError):
    pass


@dataclass
class Timings:
    retrieval_ms: float = 0.0
    drivers_ms: float = 0.0
    generation_ms: float = 0.0
    ttft_ms: float | None = None
    check_ms: float = 0.0
    total_ms: float = 0.0
    attempts: int = 0
    llm_problems: list[list[str]] = field(default_factory=list)


MIN_REGENERATION_TOKENS = 24


def whole_sentences(text: str) -> str:
    """Text cut at its last full sentence: a generation stopped by its token budget must not
    end mid-sentence (the check then sees exactly what would be shown)."""
    text = text.strip()
    if not text or text[-1] in ".!?":
        return text
    cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: cut + 1] if cut > 0 else text


def _tokens_left(budget_ms: float, started: float, first: Generation, max_tokens: int) -> int:
    # The regeneration sends the identical prompt, which llama.cpp (and Ollama) serve from the
    # KV cache of the first attempt, so only the new tokens cost time.
    elapsed = (time.perf_counter() - started) * 1000.0
    per_token = (first.total_ms - (first.ttft_ms or 0.0)) / max(first.tokens - 1, 1)
    left = budget_ms - elapsed
    return min(max_tokens, int(left / per_token)) if per_token > 0 else max_tokens


def _query(facts: Facts) -> str:
    words = [facts.symbol, "earnings" if facts.is_earnings_day else "next-day return forecast"]
    words += [d["label"] for d in facts.drivers[:3]]
    words.append("prediction interval uncertainty risk")
    return " ".join(words)


def _age_seconds(facts: Facts) -> float | None:
    raw = facts.prediction.get("predicted_at")
    if not raw:
        return None
    predicted = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return max((datetime.now(UTC) - predicted).total_seconds(), 0.0)


def explain(
    symbol: str,
    depth: str = "medium",
    *,
    progress: Callable[[float], None] | None = None,
    backend_name: str | None = None,
) -> tuple[dict[str, Any], Timings]:
    """Build one explanation (no caching). Raises NoPrediction when there is nothing to
    explain."""
    report = progress or (lambda _p: None)
    plan = DEPTHS[depth]
    timings = Timings()
    started = time.perf_counter()
    symbol = symbol.upper()
    pred, features, earnings = load_prediction(symbol)
    if pred is None:
        raise NoPrediction(f"No prediction for {symbol}")
    facts = Facts(symbol=symbol, prediction=pred, features=features, earnings=earnings)
    report(0.1)

    t = time.perf_counter()
    try:
        drivers, driver_info = key_drivers(
            features,
            str(pred.get("model_type", "")),
            pred.get("model_version"),
            top=plan["drivers"],
        )
    except Exception as exc:  # a broken artifact must not block the explanation
        log.exception("Key drivers failed for %s", symbol)
        drivers, driver_info = [], {"method": "occlusion", "available": False, "reason": str(exc)}
    facts.drivers = drivers
    timings.drivers_ms = (time.perf_counter() - t) * 1000.0
    report(0.2)

    excerpts, timings.retrieval_ms = retrieve(
        _query(facts), symbol=symbol, k=plan["sources"], as_of=facts.data_date
    )
    report(0.35)

    fact_list = facts.all()
    context = [e.text for e in excerpts]
    text, generator, grounding = None, "template", None
    if plan["llm"]:
        from explanations.llm import get_backend

        backend = get_backend(backend_name)
        max_tokens = int(conf.get("LLM_MAX_TOKENS")) * plan["tokens"]
        messages = build_messages(facts, excerpts, max_excerpts=2 if depth == "medium" else 4)
        budget_ms = float(conf.get("EXPLANATION_BUDGET_MS"))
        generation: Generation | None = None
        for attempt in range(2):  # the first answer, then one regeneration
            if generation is not None:
                # Regenerate only with the tokens the latency budget still allows.
                max_tokens = _tokens_left(budget_ms, started, generation, max_tokens)
                if max_tokens < MIN_REGENERATION_TOKENS:
                    timings.llm_problems.append(["regeneration skipped: latency budget spent"])
                    break
            timings.attempts += 1
            generation = backend.generate(
                messages, max_tokens=max_tokens, temperature=0.2 if attempt == 0 else 0.7
            )
            generation.text = whole_sentences(generation.text)
            timings.generation_ms += generation.total_ms
            if timings.ttft_ms is None:
                timings.ttft_ms = generation.ttft_ms
            t = time.perf_counter()
            result = check(generation.text, fact_list, context)
            timings.check_ms += (time.perf_counter() - t) * 1000.0
            report(0.65 if attempt == 0 else 0.85)
            if result.passed:
                text, generator, grounding = generation.text, "llm", result
                break
            timings.llm_problems.append(result.problems)
            grounding = result
    if text is None:
        text = render(facts)
        t = time.perf_counter()
        template_check = check(text, fact_list, context)
        timings.check_ms += (time.perf_counter() - t) * 1000.0
        llm_failed = grounding is not None and not grounding.passed
        grounding = GroundingResult(
            template_check.passed,
            template_check.problems
            + ([f"llm: {p}" for p in grounding.problems] if llm_failed else []),
            template_check.numbers_checked,
        )
        # The template's own check decides "passed"; the rejected LLM text's problems are
        # kept so users can see why the template was used.
        grounding.passed = template_check.passed
    timings.total_ms = (time.perf_counter() - started) * 1000.0
    explanation = {
        "text": text,
        "confidence": round(facts.confidence, 4),
        # Strings, as in the architecture's example (what the website renders); the structured
        # form (feature, value, signed contribution) is in key_driver_details.
        "key_drivers": [d["text"] for d in drivers],
        "key_driver_details": drivers,
        "uncertainties": uncertainties(facts, _age_seconds(facts)),
        "sources": [e.as_source() for e in excerpts],
        "generator": generator,
        "grounding": grounding.as_dict() if grounding else {"passed": True, "problems": []},
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "depth": depth,
        "prediction": {
            "predicted_return_1d": pred.get("predicted_return_1d"),
            "p10": pred.get("p10"),
            "p90": pred.get("p90"),
            "model_type": pred.get("model_type"),
            "model_version": pred.get("model_version"),
            "data_timestamp": pred.get("data_timestamp"),
        },
        "drivers_method": driver_info,
        "llm_attempts": timings.attempts,
    }
    report(1.0)
    return explanation, timings


def cache_payload(symbol: str, job_id: str, explanation: dict[str, Any]) -> dict[str, Any]:
    """The Redis value (architecture 2.2 keys plus the full API object)."""
    return {
        "symbol": symbol.upper(),
        "job_id": job_id,
        "explanation_text": explanation["text"],
        "confidence": explanation["confidence"],
        "sources": explanation["sources"],
        "generated_at": explanation["generated_at"],
        "data_timestamp": explanation["prediction"]["data_timestamp"],
        "model_version": explanation["prediction"]["model_version"],
        "explanation": explanation,
    }


def fresh_cached(symbol: str) -> dict[str, Any] | None:
    """The cached explanation if it explains the symbol's current prediction."""
    cached = cache.get(symbol)
    if cached is None:
        return None
    pred, _, _ = load_prediction(symbol)
    if pred is not None and (
        str(pred.get("data_timestamp")) != str(cached.get("data_timestamp"))
        or str(pred.get("model_version")) != str(cached.get("model_version"))
    ):
        return None
    return cached
