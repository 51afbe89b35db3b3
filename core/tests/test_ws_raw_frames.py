"""The feed's pre-framed writes (core.ws_raw_frames) against the ``websockets`` library."""

from __future__ import annotations

from typing import Any
from unittest import TestCase

from websockets.frames import Frame, Opcode

from core.ws_raw_frames import RAW_FRAMES, raw_writer, text_frame
from testkit.websockets import parse_frame

# Every payload-length encoding of RFC 6455 and its boundaries.
SIZES = (0, 1, 125, 126, 127, 65_535, 65_536, 70_000)


class TextFrameTestCase(TestCase):
    def test_it_frames_as_the_websockets_library_does(self) -> None:
        for size in SIZES:
            payload = ("é" * size).encode()[:size]
            with self.subTest(size=size):
                expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
                self.assertEqual(text_frame(payload), expected)

    def test_it_parses_back_as_one_final_uncompressed_text_frame(self) -> None:
        for size in SIZES:
            payload = b"x" * size
            with self.subTest(size=size):
                frame = parse_frame(text_frame(payload))
                self.assertEqual((frame.opcode, frame.fin, frame.rsv1), (Opcode.TEXT, True, False))
                self.assertEqual(frame.data, payload)


class RawWriterTestCase(TestCase):
    def test_it_finds_the_server_writer_in_the_scope(self) -> None:
        def write(frame: bytes) -> bool:
            return True

        self.assertIs(raw_writer({"extensions": {RAW_FRAMES: {"write": write}}}), write)

    def test_it_is_none_where_the_server_offers_none(self) -> None:
        scopes: list[dict[str, Any]] = [
            {},
            {"extensions": None},
            {"extensions": {"websocket.http.response": {}}},
        ]
        for scope in scopes:
            with self.subTest(scope=scope):
                self.assertIsNone(raw_writer(scope))
