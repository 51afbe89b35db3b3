"""WebSocket test helpers shared by the feed, session and privacy tests."""

from __future__ import annotations

import json
from typing import Any

from channels.testing import WebsocketCommunicator
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader


def application() -> Any:
    """The project's ASGI application, imported late (it loads the URL and routing modules)."""
    from config.asgi import application

    return application


async def receive_json(comm: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await comm.receive_from(timeout=timeout))
    return message


def parse_frame(data: bytes) -> Frame:
    """One whole server frame (unmasked), parsed by the ``websockets`` library."""
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        assert not reader.buffer, "bytes after the frame"
        return frame
    raise AssertionError("incomplete frame")


def text_of_frame(data: bytes) -> str:
    """The text of one whole, final, uncompressed server text frame."""
    frame = parse_frame(data)
    assert (frame.opcode, frame.fin, frame.rsv1) == (Opcode.TEXT, True, False), frame
    return bytes(frame.data).decode()
