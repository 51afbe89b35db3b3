"""The grammar of the facts: the embedded model, held to it, can only write supported text."""

from __future__ import annotations

from django.test import override_settings

from explanations.constrained import grammar_for
from explanations.grounding import check
from explanations.llm import get_backend
from explanations.llm.llamacpp import LlamaCppBackend
from explanations.prompt import build_messages
from explanations.retrieval import Excerpt
from explanations.tests.facts_support import DRIVER_20D, nvda_facts

FACTS = nvda_facts(
    "normal_day", "v1", features={"return_20d": 0.082}, earnings=None, drivers=[DRIVER_20D]
)


def test_it_allows_only_the_sign_correct_direction():
    grammar = grammar_for(FACTS)
    assert '"fall"' in grammar and '"rise"' not in grammar
    # The interval is part of the forecast's sentence, so a cut text keeps it.
    assert '", with an 80% interval from " | ", with an 80% interval of "' in grammar
    assert '"-3.10% to +2.20%"' in grammar


def test_it_prompts_a_grammar_held_answer_with_only_what_the_grammar_can_state():
    facts = nvda_facts(
        "earnings_day", "v1",
        features={"return_20d": 0.082, "rsi_14": 61.0, "eps_surprise_pct": 12.5},
        earnings={"is_earnings_day": True}, drivers=[DRIVER_20D],
    )  # fmt: skip
    excerpt = Excerpt(
        chunk_id=1, document_id=1, title="NVDA Q2 call", source="transcript", symbol="NVDA",
        section="", date=None, text="Data center revenue doubled again.", similarity=0.9,
        relevance=0.9,
    )  # fmt: skip
    full = build_messages(facts, [excerpt])[1]["content"]
    short = build_messages(facts, [excerpt], for_grammar=True)[1]["content"]
    for held in ("-0.42%", "-3.10% to +2.20%", DRIVER_20D["text"], "Explain why NVDA"):
        assert held in full and held in short, held
    for left_out in ("TECHNICAL CONTEXT", "EARNINGS CONTEXT", "Data center revenue"):
        assert left_out in full and left_out not in short, left_out
    assert len(short) < 0.8 * len(full)


def test_it_makes_the_embedded_model_write_supported_text():
    with override_settings(LLM_BACKEND="llamacpp", LLM_THREADS=1):
        generation = get_backend().generate(
            build_messages(FACTS, []), max_tokens=90, temperature=0.7, grammar=grammar_for(FACTS)
        )
    assert generation.text.startswith("NVDA is ")
    result = check(generation.text, FACTS.all())
    assert result.passed, (generation.text, result.problems)


def test_it_holds_the_first_attempt_to_the_grammar(db, prediction, monkeypatch):
    from explanations.service import explain

    sent: list[str] = []
    generate = LlamaCppBackend.generate

    def spy(self, messages, **kw):  # the real model, its prompt recorded
        sent.append(messages[1]["content"])
        return generate(self, messages, **kw)

    monkeypatch.setattr(LlamaCppBackend, "generate", spy)
    with override_settings(LLM_BACKEND="llamacpp", LLM_THREADS=1, EXPLANATION_BUDGET_MS=60000):
        explanation, timings = explain("NVDA", "medium")
    assert len(sent) == 1 and "TECHNICAL CONTEXT" not in sent[0]  # the grammar's prompt
    # One attempt, shown: the free first answer of the 135M model never passed the check.
    assert timings.attempts == 1 and explanation["generator"] == "llm", timings.llm_problems
    assert explanation["text"].startswith("NVDA is ") and explanation["grounding"]["passed"]
