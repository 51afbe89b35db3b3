"""The benches' WebSocket clients (``predictions.benchmarks.ws_client``: the minimal one and the
``websockets`` library's behind the same interface) against a real uvicorn server: each
subscribes, receives every update with its receipt time, answers the server's pings (a silent
client would be closed) and closes cleanly."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import async_to_sync

from predictions.benchmarks.ws_client import Client, FeedClient, LibraryClient, _close_all, _listen
from predictions.tests.api_support import access_token, cached_record
from predictions.tests.live_server import LiveFeedTestCase
from predictions.tests.test_ws_feed import publish

PING_S = "0.2"  # uvicorn closes a client that does not answer within the same time


class MinimalClientTestCase(LiveFeedTestCase):
    server_args = ("--ws-ping-interval", PING_S, "--ws-ping-timeout", PING_S)

    def setUp(self) -> None:
        super().setUp()
        self.path = f"/ws/predictions?token={access_token(self.alice)}"

    async def subscribed(self, kind: type[Client], symbols: list[str]) -> Client:
        client = await kind.open("127.0.0.1", self.server.port, self.path)
        await client.send_json({"action": "subscribe", "symbols": symbols})
        self.assertIn('"subscribed"', await client.first_text(20))
        return client

    def test_it_receives_each_subscribed_update_and_stays_open_through_pings(self) -> None:
        for kind in (FeedClient, LibraryClient):
            with self.subTest(kind=kind.__name__):
                async_to_sync(self.receive_scenario)(kind)

    async def receive_scenario(self, kind: type[Client]) -> None:
        clients = [
            await self.subscribed(kind, ["NVDA"]),
            await self.subscribed(kind, ["NVDA", "AAPL"]),
        ]
        await asyncio.sleep(1.5)  # several pings: unanswered, uvicorn would close
        self.assertTrue(all(c.is_open for c in clients))
        before = time.time()
        listening = asyncio.ensure_future(
            _listen([(clients[0], {"NVDA"}), (clients[1], {"NVDA", "AAPL"})], 20)
        )
        await publish([cached_record("NVDA"), cached_record("AAPL")])
        received = await listening
        self.assertEqual(len(received), 3)
        self.assertTrue(all(before <= at <= time.time() for at in received))
        summary = await _close_all([(c, set()) for c in clients], [])
        self.assertEqual((summary["opened"], summary["still_open"]), (2, 2))
        self.assertFalse(any(c.is_open for c in clients))

    def test_it_fails_the_handshake_of_a_refused_upgrade(self) -> None:
        async def scenario() -> None:
            with self.assertRaises(Exception) as caught:
                await FeedClient.open("127.0.0.1", self.server.port, "/no/such/socket")
            self.assertIn("HTTP/1.1", str(caught.exception))

        async_to_sync(scenario)()
