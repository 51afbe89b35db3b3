"""The explanation pipeline with the Ollama backend (a local server speaking its protocol):
grounded text is used as is; an ungrounded answer is regenerated once, then the template is
used, and the response says so."""

from __future__ import annotations

import pytest
from django.test import override_settings

from explanations.indexing import index_source
from explanations.service import NoPrediction, explain
from explanations.tests.ollama_server import chat_route


def explain_with(http_server, answers: list[str], depth: str = "medium"):
    base, recorder = http_server({("POST", "/api/chat"): chat_route(answers)})
    with override_settings(LLM_BACKEND="ollama", OLLAMA_HOST=base, LLM_MAX_TOKENS=64):
        explanation, timings = explain("NVDA", depth)
    return explanation, timings, recorder


@pytest.fixture
def kb(db):
    index_source("playbooks")


def test_it_uses_grounded_llm_text(kb, prediction, http_server):
    point = prediction.predicted_return_1d
    low, high = prediction.p10 * 100, prediction.p90 * 100
    text = (
        f"NVDA is predicted to rise {point * 100:.2f}% on the next trading day, driven mainly by "
        f"its RSI (14 days) of 62.50; the 80% interval runs from {low:+.2f}% to {high:+.2f}%."
    )
    explanation, timings, recorder = explain_with(http_server, [text])
    assert explanation["generator"] == "llm"
    assert explanation["text"] == text
    grounding = explanation["grounding"]
    assert {k: grounding[k] for k in ("passed", "problems", "numbers_checked")} == {
        "passed": True,
        "problems": [],
        "numbers_checked": 5,  # the forecast, the RSI, the 80% level and both bounds
    }
    # Claim-level grounding (issue 15): the one sentence shown is supported.
    assert grounding["sentences"] == [{"text": text, "supported": True, "problems": []}]
    assert len(recorder.requests) == 1 and timings.attempts == 1
    prompt = recorder.requests[0]["body"].decode()
    assert "62.50" in prompt and "Playbook:" in prompt  # facts and excerpts reach the model
    assert [d["feature"] for d in explanation["key_driver_details"]][:1] == ["rsi_14"]
    assert explanation["sources"] and explanation["sources"][0]["relevance"] > 0


def test_it_regenerates_once_then_falls_back_to_the_template(kb, prediction, http_server):
    invented = "NVDA will rise 7.5% tomorrow thanks to its P/E ratio of 35."
    explanation, timings, recorder = explain_with(http_server, [invented, invented])
    assert len(recorder.requests) == 2 and timings.attempts == 2
    assert explanation["generator"] == "template"
    assert invented not in explanation["text"]
    assert explanation["text"].startswith("NVDA is predicted to rise")
    grounding = explanation["grounding"]
    assert grounding["passed"] is True  # the template shown passed the check
    assert "llm: number '7.5%' matches no fact" in grounding["problems"]
    assert "llm: metric 'P/E ratio' is not among the facts" in grounding["problems"]


def test_it_accepts_a_good_second_attempt(kb, prediction, http_server):
    low, high = prediction.p10 * 100, prediction.p90 * 100
    good = f"The 80% interval runs from {low:+.2f}% to {high:+.2f}%."
    # The interval (+0.17% to +5.17%) does not straddle zero: saying so is a false claim.
    false = good[:-1] + ", so the direction is uncertain."
    explanation, _, recorder = explain_with(http_server, [false, good])
    assert len(recorder.requests) == 2
    assert explanation["generator"] == "llm" and explanation["text"] == good


def test_it_skips_the_regeneration_when_the_latency_budget_is_spent(kb, prediction, http_server):
    base, recorder = http_server({("POST", "/api/chat"): chat_route(["It will rise."])})
    with override_settings(
        LLM_BACKEND="ollama", OLLAMA_HOST=base, LLM_MAX_TOKENS=64, EXPLANATION_BUDGET_MS=1
    ):
        explanation, timings = explain("NVDA", "medium")
    assert len(recorder.requests) == 1 and timings.attempts == 1
    assert explanation["generator"] == "template"
    assert timings.llm_problems[-1] == ["regeneration skipped: latency budget spent"]


def test_it_cuts_generated_text_at_the_last_full_sentence():
    from explanations.service import whole_sentences

    assert whole_sentences("One. Two is cut") == "One."
    assert whole_sentences("Complete sentence!") == "Complete sentence!"
    assert whole_sentences("no end at all") == "no end at all"
    # Stopped by the token budget: a final "." may be a cut decimal ("+2." of "+2.35%").
    cut = "A is predicted to fall 0.01%. The largest driver: Return, 1 day +2."
    assert whole_sentences(cut, cut_off=True) == "A is predicted to fall 0.01%."
    assert whole_sentences("A is predicted to rise 0.", cut_off=True) == ""


def test_it_uses_the_template_without_a_model_at_depth_fast(kb, prediction, http_server):
    explanation, timings, recorder = explain_with(http_server, ["unused"], depth="fast")
    assert recorder.requests == [] and timings.attempts == 0
    assert explanation["generator"] == "template" and explanation["grounding"]["passed"]


def test_it_refuses_symbols_without_a_prediction(db):
    with pytest.raises(NoPrediction):
        explain("ZZZZ", "fast")
