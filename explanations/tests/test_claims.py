"""The claim forms (claims.py): a sentence passes only as a sequence of forms whose every
figure, direction, horizon, symbol and driver is a fact; a claim no form makes fails whether or
not any named rule recognises its words."""

from __future__ import annotations

import itertools
import re

from explanations.constrained import grammar_for
from explanations.facts import Facts
from explanations.grounding import check
from explanations.template import render
from explanations.tests.facts_support import DRIVER_1D, DRIVER_20D, nvda_facts

FACTS = nvda_facts(
    "earnings_day",
    "e2025.07",
    features={"return_20d": 0.082, "return_1d": 0.0235, "rsi_14": 62.5},
    earnings={"announcement_date": "2025-07-09", "eps_estimate": 1.01},
    drivers=[DRIVER_20D, DRIVER_1D],
)
FORECAST = "NVDA is predicted to fall 0.42% on the next trading day."


def verdict(text: str) -> list[bool]:
    return [s.supported for s in check(text, FACTS.all()).sentences]


def test_it_fails_unsupported_claims_that_no_named_rule_recognises():
    # None of these uses a word of the old lists (the model's ability, history, market
    # commentary, a figure): they fail because they are no claim form of the facts.
    for claim in (
        "The forecast reflects the company's steady position in its niche.",
        "Uncertainty comes from the width of recent trading ranges.",
        "This is consistent with the broader picture for NVDA.",
        "NVDA is predicted to fall 0.42% as buyers step back.",
        "The decline mirrors the pattern seen before earnings.",
        (
            "The 80% interval runs from -3.10% to +2.20%, so the direction is uncertain and the "
            "forecast is of limited use."
        ),
    ):
        result = check(FORECAST + " " + claim, FACTS.all())
        assert [s.supported for s in result.sentences] == [True, False], claim
        assert result.sentences[1].problems[-1].startswith("not a claim the facts support"), claim


def test_it_rejects_the_claims_of_issue_15_by_their_form():
    for claim in (
        (
            "The prediction of NVDA to fall 0.42% is based on the model's ability to predict "
            "future returns, which has been a key component in forecasting stock market "
            "performance over the past decade."
        ),
        (
            "The return of 0.42% on a 2-day forward carry is an example of the model's ability "
            "to make predictions based on past data."
        ),
        "NVDA is predicted to fall 0.42% over the next 2 days.",
        "NVDA is predicted to fall 0.42% by the close in two days.",
        "NVDA is predicted to fall 0.42% tomorrow.",  # after a Friday, no trading day
    ):
        assert verdict(FORECAST + " " + claim) == [True, False], claim


def test_it_checks_every_slot_of_the_forecast():
    assert verdict("NVDA is expected to decline 0.42% by the next close.") == [True]
    assert verdict("The model predicts a 0.42% fall in the price of NVDA by the next close.") == [
        True
    ]
    for wrong in (
        "NVDA is predicted to rise 0.42% on the next trading day.",  # direction
        "NVDA is predicted to fall 0.24% on the next trading day.",  # figure
        "NVDA is predicted to fall 1.61% on the next trading day.",  # the sigma, not the forecast
        "AMD is predicted to fall 0.42% on the next trading day.",  # another symbol
        "NVDA is predicted to fall 0.42%, from $150.55 to $150.92.",  # the price
        "NVDA is predicted to fall 0.42%, according to the normal-day model e2025.07.",
    ):
        assert verdict(wrong) == [False], wrong


def test_it_checks_the_interval_confidence_and_sigma():
    conf = f"{FACTS.confidence * 100:.0f}%"
    sigma = f"{FACTS.sigma * 100:.2f}%"
    good = (
        "The 80% interval of the return runs from -3.10% to +2.20%, so the direction itself is "
        f"uncertain; the model's confidence in the direction is {conf}. Its uncertainty (sigma) "
        f"is {sigma}."
    )
    assert verdict(good) == [True, True]
    for wrong in (
        "The 90% interval of the return runs from -3.10% to +2.20%.",
        "The 80% interval of the return runs from +2.20% to -3.10%.",
        "The 80% interval of the return runs from 3.10% to 2.20%.",  # unsigned lower bound
        "The model's confidence in the direction is 80%.",
        "The uncertainty (sigma) is 2.20%.",
    ):
        assert verdict(wrong) == [False], wrong
    narrow = Facts(**{**FACTS.__dict__, "prediction": {**FACTS.prediction, "p10": 0.001}})
    text = "The 80% interval runs from +0.10% to +2.20%, so the direction is uncertain."
    assert not check(text, narrow.all()).passed  # it does not straddle zero


def test_it_checks_the_drivers():
    top, second = (d["text"] for d in FACTS.drivers)
    assert verdict(f"The input that moved the forecast most: {top}.") == [True]
    assert verdict(f"Another driver: {second}.") == [True]
    assert verdict(f"The largest driver: {second}.") == [False]  # not the largest
    flipped = second.replace("up by", "down by")
    assert verdict(f"Another driver: {flipped}.") == [False]
    assert verdict("Another driver: RSI (14 days) 62.50.") == [False]  # a feature, no driver
    # A driver cut by the token budget: "+2." of "+2.35%".
    assert verdict("Another driver: Return, 1 day +2.") == [False]


def test_it_accepts_a_copied_excerpt_but_not_a_blend_of_it():
    excerpt = (
        "Volatility targeting keeps the risk budget constant: exposure scales with one over "
        "sigma, so a wider interval means a smaller position."
    )
    facts = FACTS.all()
    quote = "Volatility targeting keeps the risk budget constant."
    assert check(f"{FORECAST} {quote}", facts, [excerpt]).passed
    blend = "NVDA is uncertain because of the volatility targeting and its risk budget."
    assert not check(f"{FORECAST} {blend}", facts, [excerpt]).passed


def _expand(grammar: str) -> list[str]:
    """Every text of the grammar_for GBNF (literals, groups, alternatives, '?')."""
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    token = re.compile(r'"((?:\\.|[^"\\])*)"|([a-z]+)|(\()|(\))|(\|)|(\?)')

    def seq(tokens: list[tuple[str, ...]], i: int) -> tuple[list[str], int]:
        alternatives, current = [], [""]
        while i < len(tokens) and tokens[i][3] == "":
            lit, name, opened, _closed, bar, _opt = tokens[i]
            if bar:
                alternatives += current
                current, i = [""], i + 1
                continue
            if opened:
                options, i = seq(tokens, i + 1)
                i += 1
            elif name:
                options, i = expand(name), i + 1
            else:
                options, i = [bytes(lit, "utf-8").decode("unicode_escape")], i + 1
            if i < len(tokens) and tokens[i][5]:
                options, i = [*options, ""], i + 1
            current = [a + b for a, b in itertools.product(current, options)]
        return alternatives + current, i

    def expand(name: str) -> list[str]:
        return seq(token.findall(rules[name]), 0)[0]

    return expand("root")


def test_it_passes_every_text_the_grammar_allows():
    texts = _expand(grammar_for(FACTS))
    assert len(texts) == 72  # 3 verbs, 2 direction words, 2 horizons, 2 intervals, 3 drivers
    failed = [t for t in texts if not check(t, FACTS.all()).passed]
    assert failed == []


def test_it_passes_the_template_of_an_earnings_day():
    text = render(FACTS)
    result = check(text, FACTS.all())
    assert "earnings reaction day" in text and result.passed, result.problems
    ordinary = Facts(**{**FACTS.__dict__, "earnings": None})
    ordinary.prediction = {**FACTS.prediction, "model_type": "normal_day"}
    earnings_sentence = (
        "The next trading day is an earnings reaction day, when moves are typically much larger "
        "than on ordinary days."
    )
    assert not check(f"{FORECAST} {earnings_sentence}", ordinary.all()).passed
