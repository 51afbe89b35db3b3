"""Load attached to the bench's platform: an API load generator (JWT-authenticated
``GET /api/prediction/{symbol}`` at a fixed rate) and WebSocket clients of the predictions feed
that reconnect when dropped, each in a thread of the bench process, recording every outcome
with its time so each fault's window can be counted afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

SOURCE_HEADER = "x-prediction-source"


@dataclass
class ApiWindow:
    requests: int = 0
    server_errors: int = 0  # HTTP 5xx
    unreachable: int = 0  # no HTTP answer (connection refused or reset, timeout)
    other: dict[int, int] = field(default_factory=dict)  # non-2xx, non-5xx statuses
    sources: dict[str, int] = field(default_factory=dict)  # X-Prediction-Source of the 200s


class ApiLoad:
    def __init__(self, port: int, token: str, tickers: list[str], rate: float) -> None:
        self.url = f"http://127.0.0.1:{port}/api/prediction/"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.tickers = tickers
        self.period = 1.0 / rate
        self.samples: list[tuple[float, int, str]] = []  # (monotonic, status or 0, source)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        rng = random.Random(0)
        with httpx.Client(headers=self.headers, timeout=5.0) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                symbol = rng.choice(self.tickers)
                try:
                    resp = client.get(self.url + symbol)
                    sample = (time.monotonic(), resp.status_code, resp.headers.get(SOURCE_HEADER))
                except httpx.HTTPError:
                    sample = (time.monotonic(), 0, None)
                self.samples.append((sample[0], sample[1], sample[2] or ""))
                next_at += self.period
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def window(self, start: float, end: float) -> ApiWindow:
        out = ApiWindow()
        for t, status, source in list(self.samples):
            if not start <= t <= end:
                continue
            out.requests += 1
            if status == 0:
                out.unreachable += 1
            elif status >= 500:
                out.server_errors += 1
            elif status != 200:
                out.other[status] = out.other.get(status, 0) + 1
            else:
                out.sources[source] = out.sources.get(source, 0) + 1
        return out


@dataclass
class WsClient:
    symbols: list[str]
    connected: bool = False
    drops: list[float] = field(default_factory=list)  # monotonic time the connection was lost
    connects: list[float] = field(default_factory=list)
    messages: list[float] = field(default_factory=list)  # prediction messages received


class WsClients:
    """``n`` clients, each subscribed to a few symbols; a dropped client reconnects after
    0.5 s, forever, as the site's feed client does."""

    def __init__(self, port: int, token: str, tickers: list[str], n: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/predictions"
        # The token travels as a subprotocol, not in the URL (which servers log).
        self.subprotocols = ["jwt", token]
        self.clients = [
            WsClient([tickers[(i * 7 + k) % len(tickers)] for k in range(3)]) for i in range(n)
        ]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ws-load", daemon=True)
        self._tasks: list[Any] = []

    def start(self) -> None:
        self._thread.start()
        for c in self.clients:
            self._tasks.append(asyncio.run_coroutine_threadsafe(self._client(c), self._loop))

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _cancel_all(self) -> None:
        """Close every connection cleanly (no task left pending when the loop stops)."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, c: WsClient) -> None:
        while True:
            with contextlib.suppress(OSError, websockets.WebSocketException, asyncio.TimeoutError):
                async with websockets.connect(
                    self.url,
                    subprotocols=self.subprotocols,  # type: ignore[arg-type]
                    open_timeout=5,
                    ping_interval=5,
                ) as ws:
                    await ws.send(json.dumps({"action": "subscribe", "symbols": c.symbols}))
                    c.connected = True
                    c.connects.append(time.monotonic())
                    async for raw in ws:
                        if "prediction_update" in str(raw):
                            c.messages.append(time.monotonic())
            if c.connected:
                c.connected = False
                c.drops.append(time.monotonic())
            await asyncio.sleep(0.5)

    def window(self, start: float, end: float) -> dict[str, Any]:
        dropped = [c for c in self.clients if any(start <= t <= end for t in c.drops)]
        back = [c for c in dropped if c.connected and c.connects and c.connects[-1] > max(c.drops)]
        fresh = [c for c in self.clients if any(t > start for t in c.messages)]
        return {
            "clients": len(self.clients),
            "dropped": len(dropped),
            "reconnected": len(back),
            "connected_at_end": sum(c.connected for c in self.clients),
            "received_in_window": len(fresh),
        }
