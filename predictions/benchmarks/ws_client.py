"""The WebSocket clients of ``bench ws`` and ``bench mixed``, and their client processes.

Why: the benches' clients share the machine's two cores with the server they measure, so
their CPU per update is time real subscribers would spend on their own machines. This client
is an ``asyncio.Protocol`` that parses the server's frames from its buffer and hands each text
message to a callback (no future, queue or assembler per message); it still decodes every
update's JSON. Measured (``bench ws`` ``client_cpu_us_per_update``, 2026-12-07, 2-core Xeon):
23-42 us per update against the ``websockets`` library's 34-43 us (docs/performance.md).

What it speaks (RFC 6455, client side): the opening handshake without extensions, masked text
frames out, unmasked final frames in (uvicorn sends whole messages), pong for ping, the close
handshake. Anything else (a fragmented or compressed frame) is a protocol error: the connection
is closed and counted as not held. ``LibraryClient`` puts the ``websockets`` client behind the
same interface (``--client websockets``), so both run through the same process code.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from websockets.frames import Frame, Opcode

from predictions.benchmarks.ws import CLIENTS, HANDSHAKE_CONCURRENCY, SOURCE_ADDRESSES

TextHandler = Callable[[float, str], None]

_HEADER_END = b"\r\n\r\n"


class FeedProtocolError(RuntimeError):
    pass


class _Subscriber:
    """What both clients share: each text goes to ``on_text`` with its receipt time; until a
    handler is set, the first one (the subscription's ack) resolves ``first_text``."""

    def __init__(self) -> None:
        self.on_text: TextHandler = self._first_text
        self.first: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def first_text(self, timeout: float) -> str:
        return await asyncio.wait_for(self.first, timeout)

    def _first_text(self, at: float, text: str) -> None:
        if not self.first.done():
            self.first.set_result(text)


class FeedClient(_Subscriber, asyncio.Protocol):
    def __init__(self, request: bytes) -> None:
        super().__init__()
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.closed = False
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    async def open(
        cls, host: str, port: int, path: str, local_addr: tuple[str, int] | None = None
    ) -> FeedClient:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: cls(request), host, port, local_addr=local_addr
        )
        await client.handshake
        return client

    @property
    def is_open(self) -> bool:
        return self.upgraded and not self.closed

    async def close(self, timeout: float = 2.0) -> None:
        if self.transport is None or self.closed:
            return
        self._send(Opcode.CLOSE, (1000).to_bytes(2, "big"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closing), timeout)
        self.transport.close()

    # --- messages ------------------------------------------------------------------------------

    async def send_json(self, message: dict[str, Any]) -> None:
        self._send(Opcode.TEXT, json.dumps(message).encode())

    def _send(self, opcode: Opcode, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(Frame(opcode, data).serialize(mask=True, extensions=[]))

    # --- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        error = exc or ConnectionError("connection closed")
        for future in (self.handshake, self.first):
            if not future.done():
                future.set_exception(error)
        if not self.closing.done():
            self.closing.set_result(None)

    def data_received(self, data: bytes) -> None:
        at = time.time()  # the receipt time, before any parsing
        self.buffer += data
        if not self.upgraded and not self._read_response():
            return
        try:
            self._read_frames(at)
        except FeedProtocolError as exc:  # a frame this client does not speak
            self._fail(exc)

    def _read_response(self) -> bool:
        end = self.buffer.find(_HEADER_END)
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + len(_HEADER_END)]
        if not head.startswith("HTTP/1.1 101"):
            self._fail(FeedProtocolError(head.split("\r\n", 1)[0][:200]))
            return False
        self.upgraded = True
        self.handshake.set_result(None)
        return True

    def _read_frames(self, at: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, size, start = buffer[0], buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if first & 0xF0 != 0x80:  # not final, or a reserved bit (compression) set
                raise FeedProtocolError(f"unsupported frame {first:#x}")
            self._frame(first & 0x0F, payload, at)

    def _frame(self, opcode: int, payload: bytes, at: float) -> None:
        if opcode == Opcode.TEXT.value:
            self.on_text(at, payload.decode())
        elif opcode == Opcode.PING.value:
            self._send(Opcode.PONG, payload)
        elif opcode == Opcode.CLOSE.value:
            if not self.closing.done():
                self._send(Opcode.CLOSE, payload[:2])
                self.closing.set_result(None)
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc)
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LibraryClient(_Subscriber):
    """The ``websockets`` library's asyncio client behind ``FeedClient``'s interface: a reader
    task hands each received text to ``on_text`` with its receipt time."""

    def __init__(self, ws: Any) -> None:
        super().__init__()
        self.ws = ws
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(
        cls, host: str, port: int, path: str, local_addr: tuple[str, int] | None = None
    ) -> LibraryClient:
        from websockets.asyncio.client import connect

        ws = await connect(
            f"ws://{host}:{port}{path}", ping_interval=None, compression=None, open_timeout=120,
            close_timeout=2, local_addr=local_addr,
        )  # fmt: skip
        return cls(ws)

    @property
    def is_open(self) -> bool:
        return bool(self.ws.state.name == "OPEN")

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def _read(self) -> None:
        import websockets

        with contextlib.suppress(websockets.WebSocketException):
            while True:
                text = await self.ws.recv()
                self.on_text(time.time(), text)  # the receipt time, before any parsing

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


Client = FeedClient | LibraryClient
Clients = list[tuple[Client, set[str]]]


# --- a client process of the benches (python -m predictions.benchmarks.ws --clients-proc) -------


async def client_main(params: dict[str, Any]) -> dict[str, Any]:
    """One process's clients: connect and subscribe, print READY, wait for GO, then take every
    update's receipt time (``bench ws``) or every update of the window by day (``bench mixed``,
    ``stream``)."""
    import sys

    import websockets

    kind = FeedClient if params.get("client", CLIENTS[0]) == "minimal" else LibraryClient
    path = f"/ws/predictions?token={params['token']}"
    tickers: list[str] = params["tickers"]
    per_client: int = params["symbols_per_client"]
    gate = asyncio.Semaphore(params.get("handshakes") or HANDSHAKE_CONCURRENCY)
    failures: list[str] = []
    errors = (OSError, FeedProtocolError, TimeoutError, websockets.WebSocketException)

    async def open_one(i: int) -> tuple[Client, set[str]] | None:
        symbols = [tickers[(i + k) % len(tickers)] for k in range(per_client)]
        async with gate:
            try:
                # Source addresses spread over 127.0.0.1-16: one address has ~28,000 ephemeral
                # ports towards the server's port, 50,000 clients need more.
                source = (f"127.0.0.{1 + i % SOURCE_ADDRESSES}", 0)
                client = await kind.open("127.0.0.1", params["port"], path, source)
                await client.send_json({"action": "subscribe", "symbols": symbols})
                ack = json.loads(await client.first_text(60))
                if ack.get("type") != "subscribed":
                    raise FeedProtocolError(str(ack)[:200])
                return client, set(symbols)
            except errors as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                return None

    opened = await asyncio.gather(*(open_one(i) for i in params["indices"]))
    clients = [c for c in opened if c is not None]
    print(f"READY {len(clients)} {len(failures)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "GO"
    wait = max(params["wait"], 0)
    cpu_at_go = time.process_time()
    if params.get("stream"):
        by_day = await _stream(clients, wait)
        return {**await _close_all(clients, failures), "received_by_day": by_day}
    received = await _listen(clients, wait)
    cpu_s = time.process_time() - cpu_at_go
    expected = sum(len(symbols) for _, symbols in clients)
    summary = await _close_all(clients, failures)
    return {**summary, "expected": expected, "received": received, "cpu_s": cpu_s}


async def _listen(clients: Clients, wait: float) -> list[float]:
    """Receipt times of each client's first update per subscribed symbol, until every client
    has all of them or ``wait`` seconds have passed."""
    loop = asyncio.get_running_loop()
    received: list[float] = []
    pending: list[asyncio.Future[None]] = []

    def handler(remaining: set[str], done: asyncio.Future[None]) -> TextHandler:
        def on_text(at: float, text: str) -> None:
            message = json.loads(text)
            symbol = message.get("symbol")
            if message.get("type") == "prediction_update" and symbol in remaining:
                remaining.discard(symbol)
                received.append(at)
                if not remaining and not done.done():
                    done.set_result(None)

        return on_text

    for client, symbols in clients:
        done: asyncio.Future[None] = loop.create_future()
        client.on_text = handler(set(symbols), done)
        pending.append(done)
    if pending:
        await asyncio.wait(pending, timeout=wait)
    return received


async def _stream(clients: Clients, wait: float) -> dict[str, list[float]]:
    """Every update's receipt time by its data day, for ``wait`` seconds (``bench mixed``)."""
    import re

    by_day: dict[str, list[float]] = {}
    # No JSON decoding: keep the clients light (the server may write ": " or ":").
    day_of = re.compile(r'"data_timestamp":\s*"(\d{4}-\d\d-\d\d)').search

    def on_text(at: float, text: str) -> None:
        found = day_of(text) if "prediction_update" in text else None
        if found is not None:
            by_day.setdefault(found.group(1), []).append(round(at, 4))

    for client, _ in clients:
        client.on_text = on_text
    await asyncio.sleep(wait)
    return by_day


async def _close_all(clients: Clients, failures: list[str]) -> dict[str, Any]:
    still_open = sum(1 for client, _ in clients if client.is_open)
    await asyncio.gather(*(client.close() for client, _ in clients), return_exceptions=True)
    return {
        "opened": len(clients),
        "failed": len(failures),
        "failures": failures[:5],
        "still_open": still_open,
    }
