"""/ws/predictions through the real ASGI stack (origin check, JWT middleware, consumer) and the
real channels_redis layer of the test Redis database."""

from __future__ import annotations

import datetime as dt
import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from core.groups import PREDICTION_UPDATE_EVENT, prediction_group
from core.ws_raw_frames import RAW_FRAMES
from predictions.consumers import forget_known_symbols
from predictions.tests.api_support import access_token, cached_record, make_symbol
from testkit import BaseTransactionTestCase
from testkit.websockets import application, receive_json, text_of_frame


async def publish(payloads: list[dict]) -> None:
    """What the pipeline does per symbol (core/groups.py contract), through the real layer."""
    layer = get_channel_layer()
    for payload in payloads:
        await layer.group_send(
            prediction_group(payload["symbol"]),
            {"type": PREDICTION_UPDATE_EVENT, "payload": payload},
        )


class FeedTestCase(BaseTransactionTestCase):
    # Transactional: Channels closes "old" database connections around every consumer event,
    # which would end a TestCase's wrapping transaction.

    def setUp(self) -> None:
        super().setUp()
        forget_known_symbols()
        for ticker in ("NVDA", "AAPL", "MSFT", "BRK.B"):
            make_symbol(ticker)
        self.token = access_token(self.alice)

    def run_async(self, coro_fn, *args) -> None:
        async_to_sync(coro_fn)(*args)

    def communicator(self, token: str | None = None, **kwargs) -> WebsocketCommunicator:
        path = "/ws/predictions" + (f"?token={token}" if token else "")
        return WebsocketCommunicator(application(), path, **kwargs)

    async def connected(self, token: str | None = None) -> WebsocketCommunicator:
        comm = self.communicator(token or self.token)
        ok, _ = await comm.connect()
        self.assertTrue(ok)
        return comm

    def test_it_closes_unauthenticated_connections_with_4401(self) -> None:
        async def scenario() -> None:
            for token in (None, "garbage.token.value"):
                comm = self.communicator(token)
                await comm.connect()
                frame = await receive_json(comm)
                self.assertEqual(frame["type"], "error")
                expected = "not_authenticated" if token is None else "token_not_valid"
                self.assertEqual(frame["error"]["code"], expected)
                closed = await comm.receive_output(timeout=5)
                self.assertEqual(closed, {"type": "websocket.close", "code": 4401})

        self.run_async(scenario)

    def test_it_accepts_the_token_in_the_websocket_protocol_header(self) -> None:
        async def scenario() -> None:
            comm = self.communicator(subprotocols=["jwt", self.token])
            ok, subprotocol = await comm.connect()
            self.assertTrue(ok)
            self.assertEqual(subprotocol, "jwt")
            await comm.send_json_to({"action": "ping"})
            self.assertEqual(await receive_json(comm), {"type": "pong"})
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_subscribes_unsubscribes_and_acks(self) -> None:
        async def scenario() -> None:
            comm = await self.connected()
            await comm.send_json_to({"action": "subscribe", "symbols": ["nvda", "AAPL", "NVDA"]})
            self.assertEqual(
                await receive_json(comm),
                {
                    "type": "subscribed",
                    "symbols": ["NVDA", "AAPL"],
                    "subscriptions": ["AAPL", "NVDA"],
                },
            )
            await comm.send_json_to({"action": "unsubscribe", "symbols": ["AAPL"]})
            self.assertEqual(
                await receive_json(comm),
                {"type": "unsubscribed", "symbols": ["AAPL"], "subscriptions": ["NVDA"]},
            )
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_pushes_published_updates_of_subscribed_symbols_only(self) -> None:
        async def scenario() -> None:
            comm = await self.connected()
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA", "BRK.B"]})
            await receive_json(comm)
            payloads = [
                cached_record(t, predicted_return_1d=0.01 * i)
                for i, t in enumerate(["AAPL", "NVDA", "BRK.B"], start=1)
            ]
            await publish(payloads)
            frames = [await receive_json(comm), await receive_json(comm)]
            by_symbol = {frame["symbol"]: frame for frame in frames}
            self.assertEqual(set(by_symbol), {"NVDA", "BRK.B"})
            self.assertEqual(by_symbol["NVDA"], {"type": "prediction_update", **payloads[1]})
            self.assertEqual(by_symbol["BRK.B"]["predicted_return_1d"], 0.03)
            self.assertTrue(await comm.receive_nothing(timeout=0.3))
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_delivers_through_the_pubsub_layer_too(self) -> None:
        layers = {
            "default": {
                "BACKEND": "predictions.ws_layer.PubSubChannelLayer",
                "CONFIG": {"hosts": [settings.REDIS_URL]},
            }
        }

        async def scenario() -> None:
            comm = await self.connected()
            await comm.send_json_to({"action": "subscribe", "symbols": ["AAPL"]})
            await receive_json(comm)
            payloads = [cached_record("NVDA"), cached_record("AAPL", predicted_return_1d=-0.02)]
            await publish(payloads)
            frame = await receive_json(comm)
            self.assertEqual(frame, {"type": "prediction_update", **payloads[1]})
            self.assertTrue(await comm.receive_nothing(timeout=0.3))
            await comm.disconnect()

        with override_settings(CHANNEL_LAYERS=layers):
            self.run_async(scenario)

    def raw_scenario(self, accept: bool) -> tuple[list[bytes], list[dict], list[dict]]:
        """Two updates to a connection whose server offers pre-framed writes that it accepts
        or refuses (a busy socket): (frames written, frames sent through ASGI, payloads)."""
        written: list[bytes] = []
        received: list[dict] = []
        payloads = [
            cached_record(t, predicted_return_1d=0.01 * i) for i, t in enumerate(["NVDA", "AAPL"])
        ]

        def write(frame: bytes) -> bool:
            if accept:
                written.append(frame)
            return accept

        async def scenario() -> None:
            comm = self.communicator(self.token)
            comm.scope["extensions"] = {RAW_FRAMES: {"write": write}}
            ok, _ = await comm.connect()
            self.assertTrue(ok)
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA", "AAPL"]})
            await receive_json(comm)  # the ack: always through ASGI
            await publish(payloads)
            if not accept:
                received.extend([await receive_json(comm), await receive_json(comm)])
            self.assertTrue(await comm.receive_nothing(timeout=0.3))
            await comm.disconnect()

        self.run_async(scenario)
        return written, received, payloads

    def test_it_writes_updates_as_frames_where_the_server_offers_it(self) -> None:
        written, received, payloads = self.raw_scenario(accept=True)
        self.assertEqual(received, [])
        updates = [json.loads(text_of_frame(frame)) for frame in written]
        self.assertEqual(updates, [{"type": "prediction_update", **p} for p in payloads])

    def test_it_sends_through_asgi_when_the_server_refuses_the_frame(self) -> None:
        written, received, payloads = self.raw_scenario(accept=False)
        self.assertEqual(written, [])
        self.assertEqual(received, [{"type": "prediction_update", **p} for p in payloads])

    def test_it_delivers_a_cycle_published_in_batches(self) -> None:
        from predictions.ws_layer import BATCH_SIZE, batch_channel

        others = [f"X{i:04d}" for i in range(BATCH_SIZE + 100)]  # two batches and a bit

        async def scenario() -> None:
            comm = await self.connected()
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA", "AAPL"]})
            await receive_json(comm)
            # The serving process listens on the batch channel, not only on its groups'.
            [(_, listeners)] = self.redis.pubsub_numsub(batch_channel("asgi"))
            self.assertEqual(listeners, 1)
            payloads = [cached_record(t) for t in [*others[:300], "NVDA", *others[300:], "AAPL"]]
            messages = [
                (prediction_group(p["symbol"]), {"type": PREDICTION_UPDATE_EVENT, "payload": p})
                for p in payloads
            ]
            self.assertTrue(get_channel_layer().group_send_many(messages))
            frames = [await receive_json(comm), await receive_json(comm)]
            self.assertEqual([f["symbol"] for f in frames], ["NVDA", "AAPL"])  # in order
            self.assertEqual(frames[1], {"type": "prediction_update", **payloads[-1]})
            self.assertTrue(await comm.receive_nothing(timeout=0.3))
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_stops_pushing_after_unsubscribe(self) -> None:
        async def scenario() -> None:
            comm = await self.connected()
            await comm.send_json_to({"action": "subscribe", "symbols": ["MSFT"]})
            await receive_json(comm)
            await comm.send_json_to({"action": "unsubscribe", "symbols": ["MSFT"]})
            await receive_json(comm)
            layer = get_channel_layer()
            await layer.group_send(
                prediction_group("MSFT"),
                {"type": PREDICTION_UPDATE_EVENT, "payload": cached_record("MSFT")},
            )
            self.assertTrue(await comm.receive_nothing(timeout=0.5))
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_answers_malformed_messages_with_an_error_frame_and_stays_open(self) -> None:
        async def scenario() -> None:
            comm = await self.connected()
            cases = [
                ("not json", "invalid_message"),
                ("[1, 2]", "invalid_message"),
                (json.dumps({"action": "dance"}), "invalid_message"),
                (json.dumps({"action": "subscribe", "symbols": "NVDA"}), "invalid_message"),
                (json.dumps({"action": "subscribe", "symbols": ["N@VDA"]}), "invalid_symbol"),
                (json.dumps({"action": "subscribe", "symbols": ["ZZZZ"]}), "unknown_symbol"),
            ]
            for text, code in cases:
                await comm.send_to(text_data=text)
                frame = await receive_json(comm)
                self.assertEqual(frame["type"], "error", text)
                self.assertEqual(frame["error"]["code"], code, text)
                self.assertEqual(set(frame["error"]), {"code", "message", "details"})
            await comm.send_json_to({"action": "ping"})
            self.assertEqual(await receive_json(comm), {"type": "pong"})
            await comm.disconnect()

        self.run_async(scenario)

    @override_settings(WS_SUBSCRIPTION_LIMITS={"free": 2, "pro": 3, "enterprise": 1000})
    def test_it_caps_subscriptions_by_tier(self) -> None:
        bob_token = access_token(self.bob)

        async def scenario() -> None:
            comm = await self.connected(bob_token)  # free: 2 here
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA", "AAPL"]})
            self.assertEqual((await receive_json(comm))["type"], "subscribed")
            await comm.send_json_to({"action": "subscribe", "symbols": ["MSFT"]})
            frame = await receive_json(comm)
            self.assertEqual(frame["error"]["code"], "subscription_limit")
            self.assertEqual(frame["error"]["details"]["limit"], 2)
            # Re-subscribing to what it has costs nothing.
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA"]})
            self.assertEqual((await receive_json(comm))["subscriptions"], ["AAPL", "NVDA"])
            await comm.disconnect()
            comm = await self.connected()  # pro: 3 here
            await comm.send_json_to({"action": "subscribe", "symbols": ["NVDA", "AAPL", "MSFT"]})
            self.assertEqual((await receive_json(comm))["type"], "subscribed")
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_closes_with_4401_when_the_token_expires(self) -> None:
        token = AccessToken.for_user(self.alice)
        token.set_exp(lifetime=dt.timedelta(seconds=1))

        async def scenario() -> None:
            comm = await self.connected(str(token))
            frame = await receive_json(comm, timeout=5)
            self.assertEqual(frame["error"]["code"], "token_expired")
            closed = await comm.receive_output(timeout=5)
            self.assertEqual(closed, {"type": "websocket.close", "code": 4401})

        self.run_async(scenario)

    def test_it_extends_the_session_with_a_fresh_token(self) -> None:
        # 3 s: long enough that a busy machine renews before the old token runs out.
        short = AccessToken.for_user(self.alice)
        short.set_exp(lifetime=dt.timedelta(seconds=3))
        bob_token = access_token(self.bob)

        async def scenario() -> None:
            comm = await self.connected(str(short))
            await comm.send_json_to({"action": "authenticate", "token": self.token})
            frame = await receive_json(comm)
            self.assertEqual(frame["type"], "authenticated")
            self.assertTrue(await comm.receive_nothing(timeout=3.5))  # past the old expiry
            await comm.send_json_to({"action": "authenticate", "token": bob_token})
            self.assertEqual((await receive_json(comm))["error"]["code"], "permission_denied")
            await comm.disconnect()

        self.run_async(scenario)

    def test_it_refuses_browsers_from_foreign_origins(self) -> None:
        async def scenario() -> None:
            comm = self.communicator(self.token, headers=[(b"origin", b"https://evil.example")])
            ok, _ = await comm.connect()
            self.assertFalse(ok)
            comm = self.communicator(self.token, headers=[(b"origin", b"http://localhost:8000")])
            ok, _ = await comm.connect()
            self.assertTrue(ok)
            await comm.disconnect()

        self.run_async(scenario)
