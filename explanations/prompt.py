"""The prompt (architecture section 5.4), built only from structured facts and retrieved
excerpts. Numbers are pre-formatted so a small model can copy them instead of computing them."""

from __future__ import annotations

from explanations.facts import Facts, format_value
from explanations.retrieval import Excerpt

# The fixed instructions come first and never change, so llama.cpp reuses their evaluated
# tokens from the previous request (prefix match); only the facts after them are evaluated.
SYSTEM = (
    "You are a financial analyst who explains stock price predictions. Explain the prediction "
    "and its uncertainty in 2 or 3 plain sentences, citing numbers from the data. Use only the "
    "numbers given, copied exactly. Do not invent numbers or metrics. Do not promise outcomes "
    "and do not recommend buying or selling."
)

TECHNICAL = ("return_20d", "volatility_20d", "rsi_14", "market_beta")
EARNINGS = (
    "eps_surprise_pct",
    "revenue_surprise_pct",
    "gross_margin",
    "operating_margin",
    "revenue_growth_yoy",
    "fundamental_score",
    "return_12m_avg",
    "transcript_sentiment",
)


def _line(facts: Facts, name: str) -> str | None:
    from explanations.facts import feature_kind
    from features.definitions import FEATURE_LABELS

    value = facts.features.get(name)
    if value is None:
        return None
    return f"- {FEATURE_LABELS.get(name, name)}: {format_value(value, feature_kind(name))}"


def build_messages(
    facts: Facts,
    excerpts: list[Excerpt],
    *,
    excerpt_chars: int = 160,
    max_excerpts: int = 2,
    for_grammar: bool = False,
) -> list[dict[str, str]]:
    """Prompt length is what the first token waits for on a CPU (prompt evaluation), so the
    excerpts are the top ``max_excerpts``, cut to ``excerpt_chars``; the response lists them all
    as sources. ``for_grammar``: the prompt of an answer held to ``constrained.grammar_for``,
    which can state only the forecast, its interval and a key driver, so the technical and
    earnings context and the excerpts, which no such answer can use, are left out (about half
    the prompt's tokens, and of the time to the first token)."""
    p = facts.prediction
    direction = "rise" if facts.predicted_return >= 0 else "fall"
    lines = [
        "PREDICTION DATA:",
        f"- Symbol: {facts.symbol}",
        f"- Current price: {format_value(float(p['current_price']), 'price')}",
        (
            f"- Predicted 1-day return: {format_value(facts.predicted_return, 'return')} "
            f"(a predicted {direction})"
        ),
        f"- Predicted price: {format_value(float(p['predicted_price']), 'price')}",
        f"- Confidence: {facts.confidence * 100:.0f}%",
    ]
    if facts.sigma is not None:
        lines.append(f"- Uncertainty (sigma): {facts.sigma * 100:.2f}%")
    if p.get("p10") is not None and p.get("p90") is not None:
        lines.append(
            f"- 80% interval of the return: {format_value(float(p['p10']), 'return')} to "
            f"{format_value(float(p['p90']), 'return')}"
        )
    if facts.data_date:
        lines.append(f"- Data as of: {facts.data_date.isoformat()}")
    if not for_grammar:
        lines.append("TECHNICAL CONTEXT:")
        lines += [line for name in TECHNICAL if (line := _line(facts, name))]
    if facts.drivers:
        lines.append("KEY DRIVERS (from the model):")
        lines += [f"- {d['text']}" for d in facts.drivers[:3]]
    if facts.is_earnings_day and not for_grammar:
        lines.append("EARNINGS CONTEXT (earnings day):")
        lines += [line for name in EARNINGS if (line := _line(facts, name))]
    if excerpts and not for_grammar:
        lines.append("RETRIEVED CONTEXT:")
        for e in excerpts[:max_excerpts]:
            text = e.text[:excerpt_chars].rsplit(" ", 1)[0]
            lines.append(f"- [{e.title}] {text}")
    lines.append(
        f"Explain why {facts.symbol} is predicted to {direction} "
        f"{abs(facts.predicted_return) * 100:.2f}% and how uncertain this is, in 2-3 sentences."
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n".join(lines)},
    ]
