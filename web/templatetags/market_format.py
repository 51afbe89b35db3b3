"""Number formatting as traders read it, for templates: ``{% load market_format %}``.

- ``signed_pct``: a return as a signed percentage with two decimals (0.0123 -> "+1.23%").
- ``pct``: a share as a percentage (0.8 -> "80.0%"), decimals as the argument.
- ``price``: two decimals with thousands separators (1234.5 -> "1,234.50").
- ``signed_price``: a price change (+1.20, -0.35).
- ``thousands``: an integer with separators (1234567 -> "1,234,567").
- ``compact``: large counts such as volume (12345678 -> "12.35M").
- ``number``: a feature value with four significant digits.
- ``age``: seconds as a short duration ("45 s", "3 min", "2 h 5 min", "3 d").

Missing values (None, NaN, strings that are not numbers) print as an em dash, never as 0.
The same rules are mirrored in static/js/format.js for live updates.
"""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()

MISSING = "\u2014"  # em dash


def as_float(value: Any) -> float | None:
    """The value as a finite float, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _signed(number: float, decimals: int, suffix: str = "") -> str:
    text = f"{abs(number):,.{decimals}f}"
    # A value that rounds to zero is shown unsigned: "-0.00%" reads as a (false) loss.
    if float(text.replace(",", "")) == 0:
        return f"{text}{suffix}"
    return f"{'+' if number > 0 else '-'}{text}{suffix}"


@register.filter
def signed_pct(value: Any, decimals: int = 2) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    return _signed(number * 100, int(decimals), "%")


@register.filter
def pct(value: Any, decimals: int = 1) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    return f"{number * 100:,.{int(decimals)}f}%"


@register.filter
def price(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    text = f"{abs(number):,.2f}"
    return f"-{text}" if number < 0 and float(text.replace(",", "")) != 0 else text


@register.filter
def signed_price(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    return _signed(number, 2)


@register.filter
def thousands(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    return f"{round(number):,}"


_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


@register.filter
def compact(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    for size, unit in _UNITS:
        if abs(number) >= size:
            return f"{number / size:,.2f}{unit}"
    return f"{round(number):,}"


@register.filter
def number(value: Any, digits: int = 4) -> str:
    """Four significant digits, thousands separators for large values, no exponent for the
    magnitudes features take (volume ratios, RSI, betas, returns)."""
    num = as_float(value)
    if num is None:
        return MISSING
    if num == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(num)))
    decimals = max(int(digits) - 1 - magnitude, 0)
    return f"{num:,.{decimals}f}"


@register.filter
def age(seconds: Any) -> str:
    number = as_float(seconds)
    if number is None:
        return MISSING
    total = max(int(number), 0)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"


@register.filter
def direction(value: Any) -> str:
    """CSS class for a signed value: "up", "down" or "flat" (colour is never the only cue: the
    sign is always printed too)."""
    number = as_float(value)
    if number is None or round(number * 10000) == 0:
        return "flat"
    return "up" if number > 0 else "down"
