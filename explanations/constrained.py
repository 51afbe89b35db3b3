"""A llama.cpp grammar (GBNF) that lets the small model phrase an explanation but only state
what the facts hold: the forecast with its sign-correct direction, the next-trading-day horizon
and the 80% interval in one sentence, then one of the two largest key drivers copied from the
facts as its formatted string. The model chooses the wording; it cannot invent a figure, a
direction, a horizon or a claim. Every text it allows is one of the claim forms of
``claims.py`` (test_claims.py expands the grammar and checks every text).

Why this shape (measured 2026-11-29, 27 real predictions, ``LLM_MAX_TOKENS`` 80, temperature
0.7): constrained decoding spends more tokens than the text's own tokenisation (80 generated for
~62), so length decides what survives the budget. The earlier grammar (forecast with an
optional price path, interval with an optional confidence clause, optional driver) lost the
driver, the "why", in 27 of 27 texts (test3; 5 lost the interval too); with the driver optional
but second, the model skipped it in 27 of 27; required, with the interval as a third sentence,
the interval was cut in 27 of 27. With the interval inside the forecast's sentence and the
driver required: interval 27 of 27, driver 9 of 27 (18 cut a few tokens short and dropped), all
27 pass the check. The price path and the confidence are in the template and in the response's
fields.
Since 2026-12-07 a grammar-held answer gets a prompt of what the grammar can state only
(``prompt.build_messages(for_grammar=True)``), which halves the time to the first token, and
``LLM_MAX_TOKENS`` is 100: driver 27 of 27, interval 27 of 27, all 27 pass.

Used for the first attempt (``LLM_GRAMMAR_FIRST``, llama.cpp only) and for the regeneration when
an answer fails the check; Ollama serves models that need no such help."""

from __future__ import annotations

from explanations.facts import Facts


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alt(*options: str) -> str:
    return "(" + " | ".join(_lit(o) for o in options) + ")"


def _interval(facts: Facts) -> str:
    """The clause ", with an 80% interval from -2.04% to +1.86%" (empty without an interval)."""
    p = facts.prediction
    if p.get("p10") is None or p.get("p90") is None:
        return '""'
    bounds = f"{float(p['p10']) * 100:+.2f}% to {float(p['p90']) * 100:+.2f}%"
    return f"{_alt(', with an 80% interval from ', ', with an 80% interval of ')} {_lit(bounds)}"


def _forecast_rule(facts: Facts) -> str:
    """The forecast, its horizon and its interval in one sentence: what and how uncertain come
    first, so a text cut by the token budget loses only the driver."""
    ret = facts.predicted_return
    direction = _alt("rise", "gain") if ret >= 0 else _alt("fall", "decline")
    move = f" {abs(ret) * 100:.2f}%"
    return (
        f"forecast ::= {_lit(facts.symbol + ' ')} "
        f"{_alt('is predicted to ', 'is expected to ', 'is forecast to ')} {direction} "
        f"{_lit(move)} {_alt(' on the next trading day', ' by the next close')} "
        f'{_interval(facts)} "."'
    )


def _driver_rule(facts: Facts) -> str:
    """Only the first driver may be called the one that moved the forecast most."""
    texts = [d["text"] for d in facts.drivers[:2]]
    if not texts:
        return 'driver ::= ""'
    most = _alt(" The largest driver: ", " The main driver: ")
    first = f"{most} {_lit(texts[0])}"
    if len(texts) > 1:
        first = f"({first} | {_lit(' Another driver: ')} {_lit(texts[1])})"
    return f'driver ::= {first} "."'


def grammar_for(facts: Facts) -> str:
    """The GBNF source for one explanation of ``facts``."""
    return "\n".join(
        [
            # The driver is not optional: given the choice, the model skipped it in 27 of 27
            # texts (2026-11-29), and the driver is the "why" of the explanation.
            "root ::= forecast driver",
            _forecast_rule(facts),
            _driver_rule(facts),
        ]
    )
