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
from explanations.constrained import grammar_for
from explanations.drivers import key_drivers
from explanations.facts import Facts, load_prediction
from explanations.grounding import GroundingResult, check
from explanations.llm.base import Backend, Generation
from explanations.prompt import build_messages
from explanations.retrieval import Excerpt, retrieve
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


def whole_sentences(text: str, *, cut_off: bool = False) -> str:
    """Text cut at its last full sentence: a generation stopped by its token budget must not
    end mid-sentence (the check then sees exactly what would be shown). When it was stopped
    (``cut_off``) a final "." may be a decimal point ("... Return, 1 day +2." of "+2.35%"),
    so the last sentence goes too."""
    text = text.strip()
    if not text or (text[-1] in ".!?" and not cut_off):
        return text
    cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    if cut > 0:
        return text[: cut + 1]
    return "" if cut_off else text


def _tokens_left(budget_ms: float, started: float, first: Generation, max_tokens: int) -> int:
    # With the grammar first, the regeneration sends the identical prompt, which llama.cpp (and
    # Ollama) serve from the KV cache of the first attempt, so only the new tokens cost time;
    # after a free first answer, its shorter grammar prompt shares the opening (instructions,
    # prediction data), so little more is evaluated.
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


@dataclass
class _Run:
    """One explanation in progress: what the steps below read and fill in."""

    facts: Facts
    depth: str
    plan: dict[str, Any]
    timings: Timings
    started: float
    report: Callable[[float], None]
    excerpts: list[Excerpt] = field(default_factory=list)
    text: str | None = None
    generator: str = "template"
    grounding: GroundingResult | None = None


def _load_facts(symbol: str) -> Facts:
    pred, features, earnings = load_prediction(symbol)
    if pred is None:
        raise NoPrediction(f"No prediction for {symbol}")
    return Facts(symbol=symbol, prediction=pred, features=features, earnings=earnings)


def _add_drivers(run: _Run) -> dict[str, Any]:
    facts, t = run.facts, time.perf_counter()
    pred = facts.prediction
    try:
        drivers, info = key_drivers(
            facts.features,
            str(pred.get("model_type", "")),
            pred.get("model_version"),
            top=run.plan["drivers"],
        )
    except Exception as exc:  # a broken artifact must not block the explanation
        log.exception("Key drivers failed for %s", facts.symbol)
        drivers, info = [], {"method": "occlusion", "available": False, "reason": str(exc)}
    facts.drivers = drivers
    run.timings.drivers_ms = (time.perf_counter() - t) * 1000.0
    return info


def _attempt(run: _Run, backend: Backend, messages: list[dict[str, str]], **kw: Any) -> Generation:
    """One generation and its check; the text is kept when every sentence passes."""
    timings = run.timings
    timings.attempts += 1
    generation = backend.generate(messages, **kw)
    generation.text = whole_sentences(
        generation.text, cut_off=generation.tokens >= int(kw.get("max_tokens", 0) or 0) > 0
    )
    timings.generation_ms += generation.total_ms
    if timings.ttft_ms is None:
        timings.ttft_ms = generation.ttft_ms
    t = time.perf_counter()
    result = check(generation.text, run.facts.all(), [e.text for e in run.excerpts])
    timings.check_ms += (time.perf_counter() - t) * 1000.0
    if result.passed:
        run.text, run.generator = generation.text, "llm"
    else:
        timings.llm_problems.append(result.problems)
    run.grounding = result
    return generation


def _generate(run: _Run, backend_name: str | None) -> None:
    """The first answer (held to the grammar where the backend takes one and
    ``LLM_GRAMMAR_FIRST``, else free), then one regeneration (grammar-constrained) with the
    tokens the latency budget allows."""
    from explanations.llm import get_backend

    backend = get_backend(backend_name)
    max_tokens = int(conf.get("LLM_MAX_TOKENS")) * run.plan["tokens"]
    max_excerpts = 2 if run.depth == "medium" else 4
    budget_ms = float(conf.get("EXPLANATION_BUDGET_MS"))
    grammar_first = bool(conf.get("LLM_GRAMMAR_FIRST")) and backend.supports_grammar
    generation: Generation | None = None
    for attempt in range(2):
        if generation is not None:
            max_tokens = _tokens_left(budget_ms, run.started, generation, max_tokens)
            if max_tokens < MIN_REGENERATION_TOKENS:
                run.timings.llm_problems.append(["regeneration skipped: latency budget spent"])
                return
        # The regeneration, and with LLM_GRAMMAR_FIRST the first attempt, is held to a grammar
        # that can state only the facts (llama.cpp): the small model's free prose never passed.
        constrained = bool(conf.get("LLM_GRAMMAR")) and (attempt > 0 or grammar_first)
        messages = build_messages(
            run.facts, run.excerpts, max_excerpts=max_excerpts, for_grammar=constrained
        )
        generation = _attempt(
            run,
            backend,
            messages,
            max_tokens=max_tokens,
            temperature=0.7 if attempt or constrained else 0.2,
            grammar=grammar_for(run.facts) if constrained else None,
        )
        run.report(0.65 if attempt == 0 else 0.85)
        if run.text is not None:
            return


def _fall_back_to_template(run: _Run) -> None:
    """The checked template; the rejected LLM text's problems are kept so users can see why
    the template was used, while the template's own check decides "passed"."""
    run.text = render(run.facts)
    t = time.perf_counter()
    template_check = check(run.text, run.facts.all(), [e.text for e in run.excerpts])
    run.timings.check_ms += (time.perf_counter() - t) * 1000.0
    rejected = run.grounding
    llm_problems = [f"llm: {p}" for p in rejected.problems] if rejected else []
    run.grounding = GroundingResult(
        template_check.passed,
        template_check.problems + llm_problems,
        template_check.numbers_checked,
        template_check.sentences,
    )


def _assemble(run: _Run, driver_info: dict[str, Any]) -> dict[str, Any]:
    facts, pred = run.facts, run.facts.prediction
    grounding = run.grounding
    return {
        "text": run.text,
        "confidence": round(facts.confidence, 4),
        # Strings, as in the architecture's example (what the website renders); the structured
        # form (feature, value, signed contribution) is in key_driver_details.
        "key_drivers": [d["text"] for d in facts.drivers],
        "key_driver_details": facts.drivers,
        "uncertainties": uncertainties(facts, _age_seconds(facts)),
        "sources": [e.as_source() for e in run.excerpts],
        "generator": run.generator,
        "grounding": grounding.as_dict() if grounding else {"passed": True, "problems": []},
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "depth": run.depth,
        "prediction": {
            key: pred.get(key)
            for key in (
                "predicted_return_1d",
                "p10",
                "p90",
                "model_type",
                "model_version",
                "data_timestamp",
            )
        },
        "drivers_method": driver_info,
        "llm_attempts": run.timings.attempts,
    }


def explain(
    symbol: str,
    depth: str = "medium",
    *,
    progress: Callable[[float], None] | None = None,
    backend_name: str | None = None,
) -> tuple[dict[str, Any], Timings]:
    """Build one explanation (no caching). Raises NoPrediction when there is nothing to
    explain."""
    started = time.perf_counter()
    run = _Run(
        facts=_load_facts(symbol.upper()),
        depth=depth,
        plan=DEPTHS[depth],
        timings=Timings(),
        started=started,
        report=progress or (lambda _p: None),
    )
    run.report(0.1)
    driver_info = _add_drivers(run)
    run.report(0.2)
    run.excerpts, run.timings.retrieval_ms = retrieve(
        _query(run.facts), symbol=run.facts.symbol, k=run.plan["sources"], as_of=run.facts.data_date
    )
    run.report(0.35)
    if run.plan["llm"]:
        _generate(run, backend_name)
    if run.text is None:
        _fall_back_to_template(run)
    run.timings.total_ms = (time.perf_counter() - started) * 1000.0
    explanation = _assemble(run, driver_info)
    run.report(1.0)
    return explanation, run.timings


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
