"""One NVDA forecast as facts, shared by the grounding, claim-form and grammar tests."""

from __future__ import annotations

from typing import Any

from explanations.facts import Facts

DRIVER_20D = {
    "feature": "return_20d",
    "label": "Return, 20 days",
    "value": 0.082,
    "contribution": -0.0021,
    "text": "Return, 20 days +8.20% (moves the forecast down by 0.21%)",
}
DRIVER_1D = {
    "feature": "return_1d",
    "label": "Return, 1 day",
    "value": 0.0235,
    "contribution": 0.0009,
    "text": "Return, 1 day +2.35% (moves the forecast up by 0.09%)",
}


def nvda_prediction(model_type: str, model_version: str, **extra: Any) -> dict[str, Any]:
    """A falling forecast (-0.42%) whose 80 % interval straddles zero (-3.1% .. +2.2%)."""
    return {
        "current_price": 150.55,
        "predicted_return_1d": -0.0042,
        "predicted_price": 149.92,
        "p10": -0.031,
        "p50": -0.004,
        "p90": 0.022,
        "model_type": model_type,
        "model_version": model_version,
        "data_timestamp": "2025-07-09T00:00:00Z",
        **extra,
    }


def nvda_facts(model_type: str, model_version: str, **fields: Any) -> Facts:
    return Facts(symbol="NVDA", prediction=nvda_prediction(model_type, model_version), **fields)
