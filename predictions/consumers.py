"""The live feed ``/ws/predictions`` (architecture section 6.1).

Client -> server (JSON text frames):
    {"action": "subscribe", "symbols": ["NVDA", "AAPL"]}
    {"action": "subscribe", "symbols": ["NVDA"], "horizons": [1, 5, 20]}   (issue 19)
    {"action": "unsubscribe", "symbols": ["AAPL"]}
    {"action": "authenticate", "token": "<new access token>"}   (extends the session)
    {"action": "ping"}
Server -> client:
    {"type": "subscribed", "symbols": [...], "subscriptions": [...]}
    {"type": "unsubscribed", "symbols": [...], "subscriptions": [...]}
    {"type": "prediction_update", "symbol": ..., "predicted_return_1d": ..., ...}
        (+ "horizons": [{"horizon", "target_date", "predicted_return", ...}] for a symbol
        subscribed with horizons, the list of GET /api/prediction/{symbol}?horizons=)
    {"type": "error", "error": {"code": ..., "message": ..., "details": {...}}}

Authentication (``accounts.channels_auth``) happens before the consumer; an unauthenticated
connection is accepted and closed with 4401, and so is an authenticated one when its token
expires (unless the client sent a fresher token). A malformed message gets an error frame and the
connection stays. Subscriptions per connection are capped by tier (``WS_SUBSCRIPTION_LIMITS``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.auth_state import AuthError, Principal, aauthenticate
from core import metrics
from core.api_errors import error_body
from core.enums import HORIZONS
from core.groups import PREDICTION_UPDATE_EVENT, prediction_group, user_group
from core.ws_raw_frames import raw_writer, text_frame
from ingestion.models import Symbol
from predictions.api.symbols import clean_symbol

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
MAX_MESSAGE_BYTES = 64 * 1024
# channels_redis forgets group members after its group_expiry (1 day); long-lived connections
# re-join their groups well before that.
GROUP_REFRESH_SECONDS = 6 * 3600
KNOWN_SYMBOLS_TTL_SECONDS = 300

_known: tuple[float, frozenset[str]] | None = None


def _load_known() -> frozenset[str]:
    return frozenset(Symbol.objects.filter(active=True).values_list("ticker", flat=True))


def forget_known_symbols() -> None:
    global _known
    _known = None


async def known_symbols() -> frozenset[str]:
    """Tickers a client may subscribe to, cached per process (10,000 connections share it)."""
    global _known
    if _known is not None and time.monotonic() - _known[0] < KNOWN_SYMBOLS_TTL_SECONDS:
        return _known[1]
    # No lock: two concurrent reloads of the same list are harmless.
    _known = (time.monotonic(), await sync_to_async(_load_known)())
    return _known[1]


def update_message(payload: dict[str, Any], horizons: tuple[int, ...] | None) -> dict[str, Any]:
    """The client's ``prediction_update``: the cached prediction's keys as before; the stored
    longer horizons only for a subscription that asked (then as the API's ``horizons`` list)."""
    message = {"type": "prediction_update", **payload}
    stored = message.pop("horizons", None)
    if horizons is not None:
        from predictions.api.service import horizon_item
        from predictions.latest import LatestPrediction

        record = LatestPrediction.from_entry(str(payload.get("symbol")), payload)
        if record is not None:
            message["horizons"] = [horizon_item(record, h) for h in horizons]
        elif stored is not None:  # not a full record: pass the stored object through
            message["horizons"] = stored
    return message


class MessageError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class PredictionConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # Channels is untyped
    principal: Principal | None = None
    _expiry: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        self.subscriptions: set[str] = set()
        # Symbols subscribed with ``horizons``: the horizons their updates carry.
        self.horizons: dict[str, tuple[int, ...]] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Task[None]] = set()
        await self.accept(self.scope.get("auth_subprotocol"))
        principal = self.scope.get("auth")
        if principal is None:
            error = self.scope.get("auth_error")
            await self.send_error(
                getattr(error, "code", "not_authenticated"),
                getattr(error, "message", "Authentication required"),
            )
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self._token: str = self.scope.get("auth_token") or ""
        self._set_principal(principal)
        metrics.WEBSOCKET_CONNECTIONS.inc()
        self._counted = True
        # Password change, deactivation or a revoked refresh token: ``session.check`` arrives here.
        self._user_id: int | None = principal.user_id
        await self.channel_layer.group_add(user_group(principal.user_id), self.channel_name)
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(GROUP_REFRESH_SECONDS, self._schedule_refresh))
        self._outbox: list[str] = []
        self._draining = False
        # The server's pre-framed write (core.ws_raw_frames), None under other servers.
        self._write_frame = raw_writer(self.scope)
        register = getattr(type(self.channel_layer), "register_direct", None)
        if register is not None:  # the Pub/Sub layer: updates skip the per-message dispatch
            self.channel_layer.register_direct(self.channel_name, self._direct_event)

    def _set_principal(self, principal: Principal) -> None:
        self.principal = principal
        self.limit = settings.WS_SUBSCRIPTION_LIMITS.get(
            principal.tier, settings.WS_SUBSCRIPTION_LIMITS["free"]
        )
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(principal.expires_at - time.time(), 0)
        self._expiry = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._expire())
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _expire(self) -> None:
        await self.send_error("token_expired", "Access token expired; reconnect with a new one")
        await self.close(code=CLOSE_UNAUTHORIZED)

    def _schedule_refresh(self) -> None:
        self._spawn(self._refresh_groups())
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(GROUP_REFRESH_SECONDS, self._schedule_refresh))

    async def _refresh_groups(self) -> None:
        if self.principal is not None:
            await self.channel_layer.group_add(
                user_group(self.principal.user_id), self.channel_name
            )
        for symbol in list(self.subscriptions):
            await self.channel_layer.group_add(prediction_group(symbol), self.channel_name)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_counted", False):
            metrics.WEBSOCKET_CONNECTIONS.dec()
            self._counted = False
        if getattr(type(self.channel_layer), "register_direct", None) is not None:
            self.channel_layer.register_direct(self.channel_name, None)
        if self._expiry is not None:
            self._expiry.cancel()
        for timer in getattr(self, "_timers", []):
            timer.cancel()
        for symbol in getattr(self, "subscriptions", set()):
            await self.channel_layer.group_discard(prediction_group(symbol), self.channel_name)
        self.subscriptions = set()
        user_id: int | None = getattr(self, "_user_id", None)
        if user_id is not None:
            await self.channel_layer.group_discard(user_group(user_id), self.channel_name)

    # --- client messages ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.principal is None:
            return
        try:
            message = self._parse(text_data, bytes_data)
            action = message.get("action")
            if action == "subscribe":
                await self.subscribe(self._symbols(message), self._horizons(message))
            elif action == "unsubscribe":
                await self.unsubscribe(self._symbols(message))
            elif action == "authenticate":
                await self.reauthenticate(message.get("token"))
            elif action == "ping":
                await self.send_json({"type": "pong"})
            else:
                raise MessageError(
                    "invalid_message",
                    "action must be subscribe, unsubscribe, authenticate or ping",
                    {"action": str(action)[:32] if action is not None else None},
                )
        except MessageError as exc:
            await self.send_error(exc.code, exc.message, exc.details)

    @staticmethod
    def _parse(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw) > MAX_MESSAGE_BYTES:
            raise MessageError("invalid_message", f"Message larger than {MAX_MESSAGE_BYTES} bytes")
        try:
            message = json.loads(raw)
        except ValueError:
            raise MessageError("invalid_message", "Message is not valid JSON") from None
        if not isinstance(message, dict):
            raise MessageError("invalid_message", "Message must be a JSON object")
        return message

    @staticmethod
    def _symbols(message: dict[str, Any]) -> list[str]:
        raw = message.get("symbols")
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
            raise MessageError("invalid_message", "symbols must be a non-empty list of strings")
        if len(raw) > MAX_MESSAGE_BYTES // 2:
            raise MessageError("invalid_message", "Too many symbols in one message")
        symbols: list[str] = []
        bad: list[str] = []
        for item in raw:
            symbol = clean_symbol(item)
            if symbol is None:
                bad.append(item[:32])
            elif symbol not in symbols:
                symbols.append(symbol)
        if bad:
            raise MessageError(
                "invalid_symbol", "Malformed symbols: 1-10 of A-Z 0-9 . - ^", {"symbols": bad[:20]}
            )
        return symbols

    @staticmethod
    def _horizons(message: dict[str, Any]) -> tuple[int, ...] | None:
        """``horizons`` of a subscribe message: a non-empty list of 1, 5, 20 (order kept,
        repeats dropped); absent = the one-day update only, as before."""
        raw = message.get("horizons")
        if raw is None:
            return None
        if (
            not isinstance(raw, list)
            or not raw
            or len(raw) > len(HORIZONS) * 4
            or not all(type(h) is int and h in HORIZONS for h in raw)
        ):
            raise MessageError(
                "invalid_message",
                "horizons must be a non-empty list of trading-day horizons from "
                + ", ".join(str(h) for h in HORIZONS),
                {"allowed": list(HORIZONS)},
            )
        return tuple(dict.fromkeys(raw))

    async def subscribe(self, symbols: list[str], horizons: tuple[int, ...] | None = None) -> None:
        known = await known_symbols()
        unknown = [s for s in symbols if s not in known]
        if unknown and _known is not None and time.monotonic() - _known[0] > 10:
            forget_known_symbols()  # maybe listed since the cache was filled
            known = await known_symbols()
            unknown = [s for s in symbols if s not in known]
        if unknown:
            raise MessageError("unknown_symbol", "Unknown symbols", {"symbols": unknown[:20]})
        new = [s for s in symbols if s not in self.subscriptions]
        assert self.principal is not None  # receive() handles messages once authenticated
        if len(self.subscriptions) + len(new) > self.limit:
            raise MessageError(
                "subscription_limit",
                f"At most {self.limit} subscriptions per connection on the "
                f"{self.principal.tier} tier",
                {"limit": self.limit, "current": len(self.subscriptions), "requested": len(new)},
            )
        for symbol in new:
            await self.channel_layer.group_add(prediction_group(symbol), self.channel_name)
            self.subscriptions.add(symbol)
        reply: dict[str, Any] = {
            "type": "subscribed",
            "symbols": symbols,
            "subscriptions": sorted(self.subscriptions),
        }
        for symbol in symbols:  # a later subscribe of a symbol replaces its horizons
            if horizons is None:
                self.horizons.pop(symbol, None)
            else:
                self.horizons[symbol] = horizons
        if horizons is not None:
            reply["horizons"] = list(horizons)
        await self.send_json(reply)

    async def unsubscribe(self, symbols: list[str]) -> None:
        for symbol in symbols:
            self.horizons.pop(symbol, None)
            if symbol in self.subscriptions:
                self.subscriptions.discard(symbol)
                await self.channel_layer.group_discard(prediction_group(symbol), self.channel_name)
        await self.send_json(
            {
                "type": "unsubscribed",
                "symbols": symbols,
                "subscriptions": sorted(self.subscriptions),
            }
        )

    async def reauthenticate(self, token: Any) -> None:
        if not isinstance(token, str) or not token:
            raise MessageError("invalid_message", "token must be a string")
        try:
            principal = await aauthenticate(token)
        except AuthError as exc:
            raise MessageError(exc.code, exc.message) from None
        assert self.principal is not None  # receive() handles messages once authenticated
        if principal.user_id != self.principal.user_id:
            raise MessageError("permission_denied", "Token belongs to another user")
        self._token = token
        self._set_principal(principal)
        await self.send_json({"type": "authenticated", "expires_at": principal.expires_at})

    async def session_check(self, event: dict[str, Any]) -> None:
        """``session.check`` from the user's group (``accounts.sessions``): the user's password,
        status or tokens changed; close unless this connection's token still passes."""
        if self.principal is None:
            return
        revoked = event.get("revoked_session")
        try:
            if revoked is not None and revoked == self.principal.session_id:
                raise AuthError("token_revoked", "The token's session has been revoked.")
            principal = await aauthenticate(self._token)
        except AuthError as exc:
            log.info("Closing a feed connection of user %s: %s", self.principal.user_id, exc.code)
            self.principal = None
            await self.send_error(exc.code, exc.message)
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self._set_principal(principal)  # e.g. a tier change takes effect on the open connection

    # --- channel layer events ----------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels runs close_old_connections() in the single sync thread before EVERY handler;
        # for 10,000 clients that serial thread hop per update was the whole delivery time
        # (bench ws). Updates touch no database, so they skip it; other events keep it.
        if message.get("type") == PREDICTION_UPDATE_EVENT:
            await self.prediction_update(message)
        else:
            await super().dispatch(message)

    async def prediction_update(self, event: dict[str, Any]) -> None:
        """``prediction.update`` from a symbol group (core.groups) -> the client."""
        text = self._update_text(event)
        if text is not None:
            await self.send(text_data=text)

    def _update_text(self, event: dict[str, Any]) -> str | None:
        payload = event.get("payload") or {}
        symbol = payload.get("symbol")
        if symbol not in self.subscriptions:
            return None
        horizons = self.horizons.get(symbol)
        # "text": the frame the pipeline encoded once (``PredictionBatch.update_frame``).
        key = f"_text{horizons}" if horizons is not None else "_text"
        if horizons is None and "text" in event:
            key = "text"
        text: str | None = event.get(key)
        if text is None:
            text = json.dumps(update_message(payload, horizons))
            # The direct path hands the same event to every local subscriber: encode once.
            event[key] = text
        return text

    @staticmethod
    def _update_frame(event: dict[str, Any], text: str) -> bytes:
        """The frame around ``text``, built once per event for every local subscriber."""
        frames: dict[str, bytes] = event.setdefault("_frames", {})
        frame = frames.get(text)
        if frame is None:
            frame = frames[text] = text_frame(text.encode())
        return frame

    def _direct_event(self, event: dict[str, Any]) -> None:
        """Group messages from ``predictions.ws_layer`` (sync, in the event loop): updates are
        queued for one sender task; anything else takes Channels' normal dispatch."""
        if event.get("type") != PREDICTION_UPDATE_EVENT:
            self._spawn(self.dispatch(event))
            return
        text = self._update_text(event)
        if text is None:
            return
        # Straight to the socket when no earlier update is queued or being sent (order kept)
        # and the server takes it now; otherwise the ASGI send, which waits for a slow socket.
        writer = self._write_frame
        if writer is not None and not self._draining and writer(self._update_frame(event, text)):
            return
        self._outbox.append(text)
        if not self._draining:
            self._draining = True
            self._spawn(self._drain())

    async def _drain(self) -> None:
        try:
            while self._outbox:
                text = self._outbox.pop(0)
                await self.send(text_data=text)
        except Exception as exc:  # noqa: BLE001 - the client went away mid-send: nothing to deliver to
            log.debug("Dropping %d updates for a closed connection: %s", len(self._outbox), exc)
            self._outbox.clear()
        finally:
            self._draining = False

    # --- helpers -----------------------------------------------------------------------------

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content))

    async def send_error(
        self, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        await self.send_json({"type": "error", **error_body(code, message, details)})
