"""Query and path parameters of the predictions API: the strict parsers the views and the fast
path use, and their OpenAPI declarations, side by side so the schema states exactly what the
server accepts (a schemathesis run checks both directions: valid values accepted, invalid ones
refused with 400 in the single error shape).
"""

from __future__ import annotations

import re
from typing import Any

from core.api_errors import ApiError
from core.enums import HORIZONS
from predictions.api.symbols import SYMBOL_CHARS

BOOL_TRUE = ("true", "1")
BOOL_FALSE = ("false", "0")
_DIGITS = re.compile(r"[0-9]{1,9}")

# One symbol with optional surrounding spaces (``symbols.clean_symbol``).
SYMBOL_PATTERN = rf"^ *{SYMBOL_CHARS} *$"
# ``horizons=`` of the prediction endpoint: comma-separated horizons in trading days, each one
# of core.enums.HORIZONS (1, 5, 20), at most 10 items (repeats are served once).
_ONE_HORIZON = "(" + "|".join(str(h) for h in HORIZONS) + ")"
HORIZONS_PATTERN = rf"^{_ONE_HORIZON}(,{_ONE_HORIZON}){{0,9}}$"
_HORIZONS = re.compile(HORIZONS_PATTERN)

# ``symbols=`` of the batch endpoint: comma-separated symbols (spaces and empty items allowed),
# 1 to API_BATCH_MAX_SYMBOLS (100) of them.
SYMBOL_LIST_PATTERN = rf"^[ ,]*{SYMBOL_CHARS}( *,[ ,]*{SYMBOL_CHARS}){{0,99}}[ ,]*$"


def bool_schema(default: bool = False) -> dict[str, Any]:
    return {"type": "string", "enum": [*BOOL_TRUE, *BOOL_FALSE], "default": str(default).lower()}


def int_schema(minimum: int, maximum: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default}


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value in BOOL_TRUE:
        return True
    if value in BOOL_FALSE:
        return False
    raise ApiError(
        f"{name} must be true or false",
        code="invalid_parameter",
        details={"parameter": name, "value": value[:32]},
    )


def parse_horizons(value: str | None) -> tuple[int, ...] | None:
    """``horizons=1,5,20`` -> (1, 5, 20) in the order asked, repeats dropped; None when the
    parameter is absent (the default payload). Anything else is a 400."""
    if value is None:
        return None
    if not _HORIZONS.fullmatch(value):
        raise ApiError(
            "horizons must be comma-separated trading-day horizons from "
            + ", ".join(str(h) for h in HORIZONS),
            code="invalid_parameter",
            details={"parameter": "horizons", "allowed": list(HORIZONS)},
        )
    return tuple(dict.fromkeys(int(part) for part in value.split(",")))


def parse_int(value: str | None, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A decimal integer in [minimum, maximum]; anything else (signs, spaces, other digits) is a
    400, never silently replaced by the default."""
    if value is None:
        return default
    if _DIGITS.fullmatch(value) and minimum <= int(value) <= maximum:
        return int(value)
    raise ApiError(
        f"{name} must be an integer from {minimum} to {maximum}",
        code="invalid_parameter",
        details={"parameter": name, "minimum": minimum, "maximum": maximum},
    )
