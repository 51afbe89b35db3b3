"""The feed's pre-framed writes through a real uvicorn server (``core.ws_raw_frames``), to a
client that negotiated permessage-deflate: updates arrive as uncompressed frames beside the
server's compressed ones, and the compressed ones stay decodable with one inflate context."""

from __future__ import annotations

import base64
import json
import os
import socket
import zlib
from typing import Any

from asgiref.sync import async_to_sync
from websockets.frames import Frame, Opcode

from predictions.tests.api_support import access_token, cached_record
from predictions.tests.live_server import LiveFeedTestCase
from predictions.tests.test_ws_feed import publish

SYNC_TAIL = b"\x00\x00\xff\xff"  # removed from every compressed message (RFC 7692 7.2.1)


class DeflateClient:
    """A WebSocket client on a plain socket, so each frame's RSV1 bit can be seen."""

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/predictions?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1").lower()
        assert head.startswith("http/1.1 101"), head
        self.deflate = "sec-websocket-extensions: permessage-deflate" in head
        self.inflate = zlib.decompressobj(-15)  # one context for the connection

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, message: dict[str, Any]) -> None:
        frame = Frame(Opcode.TEXT, json.dumps(message).encode())
        self.sock.sendall(frame.serialize(mask=True, extensions=[]))

    def receive(self) -> tuple[bool, dict[str, Any]]:
        """(compressed, message) of the next text frame."""
        first, second = self._read(2)
        size = second & 0x7F
        if size >= 126:
            size = int.from_bytes(self._read(2 if size == 126 else 8), "big")
        payload = self._read(size)
        assert first & 0x0F == Opcode.TEXT.value and first & 0x80, f"unexpected frame {first:#x}"
        compressed = bool(first & 0x40)
        if compressed:
            payload = self.inflate.decompress(payload + SYNC_TAIL)
        return compressed, json.loads(payload)

    def close(self) -> None:
        self.sock.close()


class RawFramesThroughUvicornTestCase(LiveFeedTestCase):
    def test_it_writes_updates_uncompressed_and_keeps_the_compressed_messages_decodable(
        self,
    ) -> None:
        client = DeflateClient(self.server.port, access_token(self.alice))
        self.addCleanup(client.close)
        self.assertTrue(client.deflate)
        client.send({"action": "subscribe", "symbols": ["NVDA", "AAPL"]})
        compressed, ack = client.receive()
        self.assertEqual((compressed, ack["type"]), (True, "subscribed"))
        payloads = [cached_record("NVDA"), cached_record("AAPL", predicted_return_1d=-0.02)]
        async_to_sync(publish)(payloads)
        updates = [client.receive(), client.receive()]
        self.assertEqual(updates, [(False, {"type": "prediction_update", **p}) for p in payloads])
        # Through ASGI again, compressed with the server's context after the raw frames.
        for _ in range(2):
            client.send({"action": "ping"})
            self.assertEqual(client.receive(), (True, {"type": "pong"}))
