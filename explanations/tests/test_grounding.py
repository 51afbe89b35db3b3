"""The grounding check: invented numbers, unknown metrics and promises fail, each with its named
reason; faithful text in the claim forms passes; the template passes by construction. The forms
themselves are tested in test_claims.py."""

from __future__ import annotations

from explanations.facts import Fact, Facts
from explanations.grounding import check
from explanations.template import render

FACTS = [
    Fact("symbol", "symbol", "NVDA", "text"),
    Fact("model_version", "model version", "v2.1", "text"),
    Fact("predicted_return_1d", "predicted 1-day return", 0.0123, "return"),
    Fact("current_price", "current price", 150.55, "price"),
    Fact("predicted_price", "predicted price", 152.40, "price"),
    Fact("p10", "p10", -0.010, "return"),
    Fact("p90", "p90", 0.035, "return"),
    Fact("interval_level", "interval", 0.80, "return"),
    Fact("rsi_14", "RSI", 62.5, "number"),
    Fact("volatility_20d", "volatility", 0.42, "return"),
    Fact("dollar_volume", "dollar volume", 1.52e9, "number"),
    Fact("data_date", "data as of", "2025-07-09", "date"),
]


def test_it_accepts_faithful_text_in_the_claim_forms():
    text = (
        "NVDA is predicted to rise 1.23% on the next trading day, from $150.55 to $152.40. "
        "Its 80% interval spans -1.00% to +3.50%, so the direction itself is uncertain. "
        "The RSI is 62.50; volatility is +42.00% and dollar volume is 1.52 billion. "
        "Data as of 2025-07-09."
    )
    result = check(text, FACTS)
    assert result.passed, result.problems
    assert result.numbers_checked == 9


def test_it_rejects_figures_not_copied_as_given():
    # The prompt gives two decimals; "1.2%" and "3.5%" are roundings the text was told not to
    # make, and "+2." of "+2.35%" is what a cut generation leaves.
    assert not check("NVDA is predicted to rise 1.2% on the next trading day.", FACTS).passed
    assert not check("Its 80% interval spans -1.0% to +3.5%.", FACTS).passed


def test_it_rejects_invented_numbers():
    result = check("NVDA is predicted to rise 4.7% to $160.00.", FACTS)
    assert not result.passed
    assert "number '4.7%' matches no fact" in result.problems
    assert "number '$160.00' matches no fact" in result.problems


def test_it_rejects_a_wrong_sign():
    result = check("The model expects a move of -1.23%.", FACTS, require_prediction=False)
    assert result.problems[0] == "number '-1.23%' matches no fact"


def test_it_rejects_rounding_beyond_the_shown_precision():
    # 1.23% shown as 1.25% is not a rounding of the fact.
    assert not check("NVDA is expected to rise 1.25%.", FACTS).passed
    assert check("NVDA is expected to rise 1.23%.", FACTS).passed


def test_it_rejects_invented_dates_and_years():
    result = check("Data as of 2024-01-02, similar to 2019.", FACTS)
    assert "date '2024-01-02' matches no fact" in result.problems
    assert "year '2019' matches no fact" in result.problems


def test_it_accepts_numbers_quoted_from_the_retrieved_excerpts():
    excerpt = "In 2019 revenue grew 12% on data-center demand."
    quoted = "NVDA is predicted to rise 1.23%. In 2019 revenue grew 12% on data-center demand."
    assert not check(quoted, FACTS).passed
    assert check(quoted, FACTS, [excerpt]).passed
    # The excerpt's figure in a claim of the text's own is not a quotation.
    mixed = "NVDA is predicted to rise 1.23% because revenue grew 12% in 2019."
    assert not check(mixed, FACTS, [excerpt]).passed


def test_it_rejects_metrics_that_are_not_among_the_facts():
    result = check("Its P/E ratio and EPS look attractive next to its MACD.", FACTS)
    assert not result.passed
    assert "metric 'P/E ratio' is not among the facts" in result.problems
    assert "metric 'EPS' is not among the facts" in result.problems
    assert "metric 'MACD' is not among the facts" in result.problems
    # Metrics that are facts, stated as the facts give them; "elevated" is no fact.
    assert check("The RSI is 62.50.", FACTS, require_prediction=False).passed
    assert not check("Its RSI and volatility are elevated.", FACTS, require_prediction=False).passed


def test_it_rejects_promises_and_recommendations():
    for text, label in [
        ("NVDA will rise tomorrow.", "promised direction"),
        ("A gain is guaranteed.", "guarantee"),
        ("It is definitely going up.", "certainty"),
        ("This is a strong buy.", "recommendation"),
        ("You should sell now.", "recommendation"),
        ("A risk-free trade.", "certainty"),
    ]:
        result = check(text, FACTS)
        assert not result.passed, text
        assert any(p.startswith(label) for p in result.problems), (text, result.problems)
    # Neutral wording of the same forecast is fine.
    assert check("NVDA is predicted to rise 1.23% on the next trading day.", FACTS).passed


def test_it_rejects_text_that_does_not_state_the_prediction():
    # What the 135M model answers when it ignores the task: no claim, and no explanation.
    result = check("I'm ready to assist you with your financial analysis.", FACTS)
    assert "does not state the prediction (return, price, interval or sigma)" in result.problems
    # The 80% level and the RSI are facts, but not the forecast itself.
    assert not check("The 80% interval is wide and RSI is 62.5.", FACTS).passed
    assert check("The 80% interval runs from -1.00% to +3.50%.", FACTS).passed


def test_it_rejects_other_horizons_and_echoed_instructions():
    result = check("NVDA is predicted to rise 1.23% in 2-3 days.", FACTS)
    assert result.problems[:2] == [
        "horizon other than the next trading day: 'in 2-3 days'",
        "not a claim the facts support: 'in 2-3 days.'",
    ]
    result = check(
        "NVDA is predicted to rise 1.23% and how uncertain this is in 2-3 sentences.", FACTS
    )
    assert result.problems[:2] == [
        "echoes the prompt: 'how uncertain this is'",
        "echoes the prompt: 'in 2-3 sentences'",
    ]
    assert check("NVDA is predicted to rise 1.23% on the next trading day.", FACTS).passed


def test_it_rejects_empty_text():
    assert check("   ", FACTS).problems == ["empty text"]


def test_it_passes_the_template_explanation():
    facts = Facts(
        symbol="NVDA",
        prediction={
            "current_price": 150.55,
            "predicted_return_1d": -0.0042,
            "predicted_price": 149.92,
            "p10": -0.031,
            "p50": -0.004,
            "p90": 0.022,
            "model_type": "earnings_day",
            "model_version": "e2025.07",
            "data_timestamp": "2025-07-09T00:00:00Z",
            "predicted_at": "2025-07-09T21:00:00Z",
        },
        features={"return_20d": 0.082, "volatility_20d": 0.42},
        earnings={"announcement_date": "2025-07-09", "eps_estimate": 1.01},
        drivers=[
            {
                "feature": "return_20d",
                "label": "20-day momentum",
                "value": 0.082,
                "contribution": -0.0021,
                "text": "20-day momentum +8.20% (moves the forecast down by 0.21%)",
            }
        ],
    )
    text = render(facts)
    result = check(text, facts.all())
    assert result.passed, (text, result.problems)
    assert "fall 0.42%" in text


def test_it_rejects_the_invented_claims_of_issue_15():
    # Real texts that passed the old check: the numbers match, the claims are invented.
    facts = [
        Fact("symbol", "symbol", "MSFT", "text"),
        Fact("predicted_return_1d", "predicted 1-day return", 0.0006, "return"),
        Fact("p10", "p10", -0.012, "return"),
        Fact("p90", "p90", 0.013, "return"),
    ]
    for text, problem in [
        (
            (
                "The prediction of MSFT to rise 0.06% is based on the model's ability to predict "
                "future returns, which has been a key component in forecasting stock market "
                "performance over the past decade."
            ),
            "claim about the model: 'model's ability'",
        ),
        (
            (
                "MSFT is predicted to rise 0.06%. The return of 0.07% on a 2-day forward carry is "
                "an example of the model's ability to make predictions based on past data."
            ),
            "horizon other than the next trading day: '2-day forward'",
        ),
    ]:
        result = check(text, facts)
        assert not result.passed
        assert any(p.endswith(problem) for p in result.problems), result.problems


def test_it_judges_each_sentence_and_names_the_failing_one():
    text = "NVDA is predicted to rise 1.23%. Investors remain optimistic about the stock."
    result = check(text, FACTS)
    assert [s.supported for s in result.sentences] == [True, False]
    assert "sentence 2: market commentary: 'Investors'" in result.problems
    # A sentence that states nothing the facts hold is unsupported even without numbers.
    result = check("NVDA is predicted to rise 1.23%. The stock looks fine.", FACTS)
    assert result.sentences[1].problems == [
        "not a claim the facts support: 'The stock looks fine.'"
    ]


def test_it_rejects_a_direction_that_contradicts_the_sign():
    result = check("NVDA is predicted to fall 1.23% on the next trading day.", FACTS)
    assert result.problems[0] == (
        "direction contradicts the sign of predicted 1-day return (+1.23%): 'fall 1.23%'"
    )
    result = check("NVDA is predicted to rise 1.0% at the p10.", FACTS)  # p10 is -1.0%
    assert any("direction contradicts the sign of p10" in p for p in result.problems)
    # The interval's lower bound below zero is no contradiction of a predicted rise.
    text = "NVDA is predicted to rise 1.23%, with an 80% interval from -1.00% to +3.50%."
    assert check(text, FACTS).passed


def test_it_accepts_a_claim_that_a_retrieved_excerpt_makes():
    excerpt = "Analysts expect data center demand to stay strong through the year, management said."
    text = "NVDA is predicted to rise 1.23%. Analysts expect data center demand to stay strong."
    assert not check(text, FACTS).passed
    assert check(text, FACTS, [excerpt]).passed


DRIVER_FACTS = [
    *FACTS,
    Fact("uncertainty_sigma", "uncertainty (sigma)", 0.0126, "return"),
    Fact("return_60d", "Return, 60 days", -0.1258, "return"),
    Fact("contribution_volatility_20d", "contribution of Volatility, 20 days", -0.0007, "return"),
    Fact("contribution_return_60d", "contribution of Return, 60 days", -0.0005, "return"),
]


def test_it_rejects_a_driver_called_the_largest_when_another_moved_the_forecast_more():
    wrong = (
        "The input that moved the forecast most: Return, 60 days -12.58% (moves the forecast "
        "down by 0.05%)."
    )
    result = check("NVDA is predicted to rise 1.23%. " + wrong, DRIVER_FACTS)
    assert result.problems == ["sentence 2: the drivers called the largest are not the top 1"]
    right = (
        "The input that moved the forecast most: Volatility, 20 days +42.00% (moves the "
        "forecast down by 0.07%)."
    )
    result = check("NVDA is predicted to rise 1.23%. " + right, DRIVER_FACTS)
    assert result.passed, result.problems
    both = (
        "The inputs that moved the model's output most: Volatility, 20 days +42.00%; "
        "Return, 60 days -12.58%."
    )
    assert check("NVDA is predicted to rise 1.23%. " + both, DRIVER_FACTS).passed


def test_it_rejects_the_sigma_stated_as_the_expected_return():
    result = check("NVDA's return is expected to be around 1.26%.", DRIVER_FACTS)
    assert "figure stated as the forecast is not the forecast: '1.26%'" in result.problems
    assert check("NVDA is predicted to rise 1.23%; its sigma is 1.26%.", DRIVER_FACTS).passed


def test_it_rejects_unverifiable_qualitative_and_process_claims():
    for claim in (
        "This prediction has been confirmed by the data.",
        "The probability of a 1.23% rise is extremely low.",
        "The rise of 1.23% is significant.",
        "The forecast of 1.23% will be updated regularly as new data becomes available.",
        "The 1.23% rise is expected to continue.",
        "The uncertainty is due to the volatility of the market, 42%.",
    ):
        result = check("NVDA is predicted to rise 1.23%. " + claim, DRIVER_FACTS)
        assert not result.passed, claim
        assert result.sentences[0].supported and not result.sentences[1].supported, claim
