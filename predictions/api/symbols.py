"""The symbol grammar of the API, shared by REST views and the WebSocket feed."""

from __future__ import annotations

import re

from rest_framework import status

from core.api_errors import ApiError

# Tickers: ASCII letters (either case), digits and the '.', '-', '^' of class shares and indexes
# (BRK.B, BF-B, ^GSPC), 1 to 10 characters. The OpenAPI schema states the same pattern
# (``predictions.api.params``), so only ASCII is checked and only spaces are trimmed: Python's
# str.upper()/strip() would also accept e.g. 'ß' (-> 'SS') or a trailing tab.
SYMBOL_CHARS = r"[A-Za-z0-9.^-]{1,10}"
SYMBOL_RE = re.compile(r"^[A-Z0-9.\-^]{1,10}$")
_RAW = re.compile(rf" *({SYMBOL_CHARS}) *")


def clean_symbol(raw: str) -> str | None:
    """The canonical (upper-case) symbol, or None when ``raw`` is malformed."""
    match = _RAW.fullmatch(raw)
    return match.group(1).upper() if match else None


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
