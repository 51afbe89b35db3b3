"""WebSocket test helpers shared by the feed, session and privacy tests."""

from __future__ import annotations

import json
from typing import Any

from channels.testing import WebsocketCommunicator


def application() -> Any:
    """The project's ASGI application, imported late (it loads the URL and routing modules)."""
    from config.asgi import application

    return application


async def receive_json(comm: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await comm.receive_from(timeout=timeout))
    return message
