"""Open /ws/predictions connections end when their user's credentials stop being valid: password
changed, account deactivated, the refresh token that minted the connection's token revoked; and
tokens that are forged, of the wrong type or expired never open one."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.support import forged_tokens
from accounts.tokens import SessionRefreshToken
from predictions.consumers import forget_known_symbols
from predictions.tests.api_support import make_symbol
from testkit import BaseTransactionTestCase
from testkit.websockets import application, receive_json
from web import api_tokens


class SessionEndTestCase(BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        forget_known_symbols()
        make_symbol("NVDA")
        make_symbol("AAPL")

    async def connected(self, token: str) -> WebsocketCommunicator:
        comm = WebsocketCommunicator(application(), f"/ws/predictions?token={token}")
        ok, _ = await comm.connect()
        self.assertTrue(ok)
        await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA"]})
        self.assertEqual((await receive_json(comm))["type"], "subscribed")
        return comm

    async def assert_closed(self, comm: WebsocketCommunicator, code: str) -> None:
        frame = await receive_json(comm)
        self.assertEqual(frame["type"], "error")
        self.assertEqual(frame["error"]["code"], code)
        closed = await comm.receive_output(timeout=5)
        self.assertEqual(closed, {"type": "websocket.close", "code": 4401})

    def test_it_closes_open_connections_when_the_password_changes(self) -> None:
        token = str(SessionRefreshToken.for_user(self.alice).access_token)
        other_user = str(SessionRefreshToken.for_user(self.bob).access_token)

        def change_password() -> None:
            self.alice.set_password("a-new-password-123")
            self.alice.save()

        async def scenario() -> None:
            comm = await self.connected(token)
            bystander = await self.connected(other_user)
            await sync_to_async(change_password)()
            await self.assert_closed(comm, "password_changed")
            await bystander.send_json_to({"action": "ping"})
            self.assertEqual(await receive_json(bystander), {"type": "pong"})
            await bystander.disconnect()
            # The old token opens no new connection either.
            again = WebsocketCommunicator(application(), f"/ws/predictions?token={token}")
            await again.connect()
            await self.assert_closed(again, "password_changed")

        async_to_sync(scenario)()

    def test_it_closes_open_connections_when_the_account_is_deactivated(self) -> None:
        token = str(AccessToken.for_user(self.alice))

        def deactivate() -> None:
            user = User.objects.get(pk=self.alice.pk)
            user.is_active = False
            user.save()

        async def scenario() -> None:
            comm = await self.connected(token)
            await sync_to_async(deactivate)()
            await self.assert_closed(comm, "user_inactive")

        async_to_sync(scenario)()

    def test_it_closes_the_connections_of_a_revoked_token_only(self) -> None:
        issued = api_tokens.issue_pair(self.alice)  # the profile page's API credentials
        dashboard = api_tokens.websocket_token(self.alice)  # the website's own feed token

        async def scenario() -> None:
            api_client = await self.connected(issued.access)
            website = await self.connected(dashboard)
            revoked = await sync_to_async(api_tokens.revoke)(self.alice, issued.jti)
            self.assertTrue(revoked)
            await self.assert_closed(api_client, "token_revoked")
            await website.send_json_to({"action": "ping"})
            self.assertEqual(await receive_json(website), {"type": "pong"})
            await website.disconnect()
            again = WebsocketCommunicator(application(), f"/ws/predictions?token={issued.access}")
            await again.connect()
            await self.assert_closed(again, "token_revoked")

        async_to_sync(scenario)()

    @override_settings(WS_SUBSCRIPTION_LIMITS={"free": 1, "pro": 2, "enterprise": 3})
    def test_it_applies_a_tier_change_to_open_connections(self) -> None:
        token = str(AccessToken.for_user(self.bob))  # free

        def upgrade() -> None:
            user = User.objects.get(pk=self.bob.pk)
            user.tier = "pro"
            user.save()

        async def scenario() -> None:
            comm = await self.connected(token)
            await comm.send_json_to({"action": "subscribe", "symbols": ["AAPL"]})
            self.assertEqual((await receive_json(comm))["error"]["code"], "subscription_limit")
            await sync_to_async(upgrade)()
            await asyncio.sleep(0.5)  # the session.check event is asynchronous
            await comm.send_json_to({"action": "subscribe", "symbols": ["AAPL"]})
            self.assertEqual((await receive_json(comm))["subscriptions"], ["AAPL", "NVDA"])
            await comm.disconnect()

        async_to_sync(scenario)()

    def test_it_refuses_forged_wrong_type_and_expired_tokens(self) -> None:
        tokens = forged_tokens(self.alice)

        async def scenario() -> None:
            for name, token in tokens.items():
                with self.subTest(name):
                    comm = WebsocketCommunicator(application(), f"/ws/predictions?token={token}")
                    await comm.connect()
                    await self.assert_closed(comm, "token_not_valid")

        async_to_sync(scenario)()
