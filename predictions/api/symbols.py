"""The symbol grammar of the API, shared by REST views and the WebSocket feed."""

from __future__ import annotations

import re

from rest_framework import status

from core.api_errors import ApiError

# Upper-cased tickers: letters, digits and the '.', '-', '^' of class shares and indexes
# (BRK.B, BF-B, ^GSPC), 1 to 10 characters.
SYMBOL_RE = re.compile(r"^[A-Z0-9.\-^]{1,10}$")


def clean_symbol(raw: str) -> str | None:
    """The canonical symbol, or None when ``raw`` is malformed."""
    symbol = raw.strip().upper()
    return symbol if SYMBOL_RE.match(symbol) else None


def invalid_symbol(raw: str) -> ApiError:
    return ApiError(
        f"Malformed symbol {raw[:32]!r}: expected 1-10 of A-Z 0-9 . - ^",
        code="invalid_symbol",
        status_code=status.HTTP_400_BAD_REQUEST,
        details={"symbol": raw[:32]},
    )


def require_symbol(raw: str) -> str:
    symbol = clean_symbol(raw)
    if symbol is None:
        raise invalid_symbol(raw)
    return symbol
