"""The deterministic explanation used when generated text fails the grounding check twice (and
for ``depth=fast``). Every number in it is formatted from a fact, so it passes the check by
construction; a test holds it to that."""

from __future__ import annotations

from explanations.facts import Facts, format_value


def render(facts: Facts) -> str:
    p = facts.prediction
    ret = facts.predicted_return
    direction = "rise" if ret >= 0 else "fall"
    model = "earnings-day" if p.get("model_type") == "earnings_day" else "normal-day"
    parts = [
        (
            f"{facts.symbol} is predicted to {direction} {abs(ret) * 100:.2f}% on the next trading "
            f"day, from {format_value(float(p['current_price']), 'price')} to "
            f"{format_value(float(p['predicted_price']), 'price')}, according to the {model} model "
            f"{p.get('model_version', '')}."
        )
    ]
    if p.get("p10") is not None and p.get("p90") is not None:
        p10, p90 = float(p["p10"]), float(p["p90"])
        straddles = p10 < 0 < p90
        parts.append(
            f"The 80% interval of the return runs from {p10 * 100:+.2f}% to {p90 * 100:+.2f}%"
            + (", so the direction itself is uncertain" if straddles else "")
            + f"; the model's confidence in the direction is {facts.confidence * 100:.0f}%."
        )
    if facts.drivers:
        top = "; ".join(d["text"] for d in facts.drivers[:3])
        parts.append(f"The inputs that moved the model's output most: {top}.")
    if facts.is_earnings_day:
        parts.append(
            "The next trading day is an earnings reaction day, when moves are typically much "
            "larger than on ordinary days."
        )
    if facts.data_date:
        parts.append(f"Data as of {facts.data_date.isoformat()}.")
    return " ".join(parts)


def uncertainties(facts: Facts, data_age_seconds: float | None) -> list[str]:
    """Plain statements of what limits the forecast, each built from a fact."""
    out: list[str] = []
    p = facts.prediction
    if p.get("p10") is not None and p.get("p90") is not None:
        width = float(p["p90"]) - float(p["p10"])
        out.append(f"80% interval width: {width * 100:.2f}% of the price")
        if float(p["p10"]) < 0 < float(p["p90"]):
            out.append("The interval includes both a rise and a fall")
    vol = facts.features.get("volatility_20d")
    if vol is not None:
        out.append(f"20-day volatility (annualised): {vol * 100:.1f}%")
    if facts.is_earnings_day:
        out.append("Earnings reaction day: returns are far more dispersed than usual")
    if data_age_seconds is not None and facts.data_date:
        out.append(
            f"Data as of {facts.data_date.isoformat()} ({int(data_age_seconds)} s before this "
            "explanation)"
        )
    missing = [k for k in ("return_20d", "volatility_20d", "rsi_14") if k not in facts.features]
    if missing:
        out.append(f"Missing inputs: {', '.join(missing)}")
    return out
