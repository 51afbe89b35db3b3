"""An erased account's open WebSocket connections close at once, and its tokens are refused on
the prediction fast path too (both read the Redis-cached auth state, dropped by the erasure)."""

from __future__ import annotations

from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from accounts.tests.privacy_support import SUBJECT_PASSWORD, make_subject
from predictions.consumers import forget_known_symbols
from predictions.tests.api_support import asgi_get, put_cached
from testkit import BaseTransactionTestCase
from testkit.websockets import application, receive_json
from web import api_tokens


class ErasedSessionsTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        forget_known_symbols()
        self.subject = make_subject()
        put_cached(self.redis, "NVDA")

    def erase_by_api(self) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.subject.pair.access}")
        return client.delete("/api/me", HTTP_X_CONFIRM_PASSWORD=SUBJECT_PASSWORD).status_code

    async def connected(self, token: str) -> WebsocketCommunicator:
        comm = WebsocketCommunicator(application(), f"/ws/predictions?token={token}")
        ok, _ = await comm.connect()
        self.assertTrue(ok)
        await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA"]})
        self.assertEqual((await receive_json(comm))["type"], "subscribed")
        return comm

    async def assert_closed(self, comm: WebsocketCommunicator, code: str) -> None:
        frame = await receive_json(comm)
        self.assertEqual((frame["type"], frame["error"]["code"]), ("error", code))
        closed = await comm.receive_output(timeout=5)
        self.assertEqual(closed, {"type": "websocket.close", "code": 4401})

    def test_it_closes_every_open_connection_of_the_account_at_once(self) -> None:
        api_token = self.subject.pair.access  # a program's connection
        website = api_tokens.websocket_token(self.subject.user)  # the dashboard's own
        bystander_token = api_tokens.websocket_token(self.alice)

        async def scenario() -> None:
            program = await self.connected(api_token)
            dashboard = await self.connected(website)
            bystander = await self.connected(bystander_token)
            self.assertEqual(await sync_to_async(self.erase_by_api)(), 200)
            await self.assert_closed(program, "user_not_found")
            await self.assert_closed(dashboard, "user_not_found")
            await bystander.send_json_to({"action": "ping"})
            self.assertEqual(await receive_json(bystander), {"type": "pong"})
            await bystander.disconnect()
            again = WebsocketCommunicator(application(), f"/ws/predictions?token={api_token}")
            await again.connect()
            await self.assert_closed(again, "user_not_found")

        async_to_sync(scenario)()

    def test_it_refuses_the_tokens_on_the_prediction_fast_path(self) -> None:
        token = self.subject.pair.access
        self.assertEqual(asgi_get("/api/prediction/NVDA", token=token).status_code, 200)
        self.assertEqual(self.erase_by_api(), 200)
        fast = asgi_get("/api/prediction/NVDA", token=token)
        self.assertEqual((fast.status_code, fast.json()["error"]["code"]), (401, "user_not_found"))
