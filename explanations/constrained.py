"""A llama.cpp grammar (GBNF) that lets the small model phrase an explanation but only state
what the facts hold: the forecast with its sign-correct direction and the next-trading-day
horizon, one of the two largest key drivers, the 80% interval and the confidence, each copied
from the facts as formatted strings. The model chooses the wording and which supported sentences
to write; it cannot invent a figure, a direction, a horizon or a claim. Every text it allows is
one of the claim forms of ``claims.py`` (a test expands the grammar and checks them all).

The order is forecast, driver, interval: with ``LLM_MAX_TOKENS`` = 80 the earlier order
(forecast with prices, interval, driver) lost the driver, the "why", to the token budget in 22
of 27 texts (test3, 2026-11-29); the price path (18 tokens) is left to the template.

Used for the first attempt (``LLM_GRAMMAR_FIRST``, llama.cpp only) and for the regeneration when
a free answer fails the check; Ollama serves models that need no such help."""

from __future__ import annotations

from explanations.facts import Facts


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alt(*options: str) -> str:
    return "(" + " | ".join(_lit(o) for o in options) + ")"


def _forecast_rule(facts: Facts) -> str:
    ret = facts.predicted_return
    direction = _alt("rise", "gain") if ret >= 0 else _alt("fall", "decline")
    move = f" {abs(ret) * 100:.2f}%"
    return (
        f"forecast ::= {_lit(facts.symbol + ' ')} "
        f"{_alt('is predicted to ', 'is expected to ', 'is forecast to ')} {direction} "
        f"{_lit(move)} {_alt(' on the next trading day', ' by the next close')} "
        f'"."'
    )


def _interval_rule(facts: Facts) -> str:
    p = facts.prediction
    if p.get("p10") is None or p.get("p90") is None:
        return 'interval ::= ""'
    p10, p90 = float(p["p10"]), float(p["p90"])
    bounds = f"{p10 * 100:+.2f}% to {p90 * 100:+.2f}%"
    tail = (
        _alt(", so the direction itself is uncertain", ", so even the direction is uncertain")
        if p10 < 0 < p90
        else '""'
    )
    confidence = f"; the model's confidence in the direction is {facts.confidence * 100:.0f}%"
    return (
        "interval ::= "
        f"{_alt(' The 80% interval of the return runs from ', ' Its 80% interval spans ')}"
        f' {_lit(bounds)} {tail} ({_lit(confidence)})? "."'
    )


def _driver_rule(facts: Facts) -> str:
    """Only the first driver may be called the one that moved the forecast most."""
    texts = [d["text"] for d in facts.drivers[:2]]
    if not texts:
        return 'driver ::= ""'
    most = _alt(" The input that moved the forecast most: ", " The largest driver: ")
    first = f"{most} {_lit(texts[0])}"
    if len(texts) > 1:
        first = f"({first} | {_lit(' Another driver: ')} {_lit(texts[1])})"
    return f'driver ::= {first} "."'


def grammar_for(facts: Facts) -> str:
    """The GBNF source for one explanation of ``facts``."""
    return "\n".join(
        [
            "root ::= forecast driver? interval",
            _forecast_rule(facts),
            _interval_rule(facts),
            _driver_rule(facts),
        ]
    )
