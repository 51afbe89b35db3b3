"""Pre-framed WebSocket writes for the prediction feed: an ASGI server extension for uvicorn.

Why: one pipeline cycle sends the same update text to every subscriber of a symbol. Through ASGI
each delivery is a task, an awaited ``send``, an encode and a frame built by ``websockets``, per
client (``bench ws``: ~0.1-0.2 ms each, 10,000 a cycle). The feed frames each update once and
writes the same bytes to every subscriber's socket (``text_frame``); the server offers that write
to the application in ``scope["extensions"][RAW_FRAMES]``.

``RawFrameWebSocketProtocol`` is uvicorn's ``websockets-sansio`` protocol (uvicorn is pinned)
plus the extension; every server command line names it (``UVICORN_WS``). An application that
does not find the extension (another server, Channels' test communicator) sends through ASGI.

Frames are unmasked (server to client), final and uncompressed. With permessage-deflate
negotiated an uncompressed message is still valid (RFC 7692 section 6: RSV1 marks a compressed
one) and leaves both sides' compression contexts as they were, so the ASGI path's compressed
messages on the same connection stay decodable.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

RAW_FRAMES = "x-raw-websocket-frames"
UVICORN_WS = "core.ws_raw_frames:RawFrameWebSocketProtocol"

WriteFrame = Callable[[bytes], bool]

_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 section 5.2) around UTF-8 bytes."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


def raw_writer(scope: dict[str, Any]) -> WriteFrame | None:
    """The server's frame writer for this connection, or None where the server offers none."""
    extension = (scope.get("extensions") or {}).get(RAW_FRAMES)
    return extension.get("write") if isinstance(extension, dict) else None


class RawFrameWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's protocol offering ``write_frame`` to the application."""

    async def run_asgi(self) -> None:
        extensions = self.scope.setdefault("extensions", {})
        extensions[RAW_FRAMES] = {"write": self.write_frame}
        await super().run_asgi()

    def write_frame(self, frame: bytes) -> bool:
        """Write a whole frame now; False (nothing written) unless the connection is open and
        its socket takes writes without waiting, so the caller falls back to ASGI's ``send``,
        which waits for the socket to drain. A frame is written whole, so it cannot interleave
        with the frames the protocol writes itself (pings, closes)."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True
