"""Names shared by the pipeline (publisher) and the WebSocket feed (subscriber)."""

from __future__ import annotations

import re

# The Channels layer message sent to a symbol's group for each new prediction:
#   {"type": "prediction.update", "payload": {"symbol": ..., "predicted_return_1d": ..., ...},
#    "text": "<the client frame as JSON text>"}   ("text" optional)
# A consumer's ``prediction_update`` handler forwards it to the client as
#   the payload's keys next to "type": "prediction_update" - the pipeline's "text" as it is
#   when present (encoded once per symbol), else encoded from the payload
PREDICTION_UPDATE_EVENT = "prediction.update"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def prediction_group(ticker: str) -> str:
    """Channels group of one symbol. Group names allow only ASCII letters, digits, '.', '-' and
    '_', so '^GSPC' becomes 'predictions._GSPC'."""
    return "predictions." + _UNSAFE.sub("_", ticker.upper())


# Sent to a user's group (``user_group``) when the user's sessions must be re-checked: password
# changed, account saved (deactivated, tier changed) or a refresh token revoked:
#   {"type": "session.check", "revoked_session": <sid or None>}
# Each of the user's WebSocket connections re-validates its token and closes when it fails.
SESSION_CHECK_EVENT = "session.check"


def user_group(user_id: int) -> str:
    """Channels group holding every WebSocket connection of one user."""
    return f"user.{int(user_id)}"
