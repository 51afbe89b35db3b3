"""The canary split: a stable hash of the ticker, the same in every process and after every
restart (never Python's salted ``hash()``), nested as the share grows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from predictions.rollout.split import bucket, in_canary

TICKERS = [f"T{i:04d}" for i in range(5000)]


def _in_fresh_process(seed: str) -> list[str]:
    code = (
        "import json, sys\n"
        "from predictions.rollout.split import in_canary\n"
        "tickers = [f'T{i:04d}' for i in range(5000)]\n"
        "mask = in_canary(tickers, 0.1)\n"
        "print(json.dumps([t for t, m in zip(tickers, mask) if m]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_it_picks_the_same_symbols_after_a_restart():
    mine = [t for t, m in zip(TICKERS, in_canary(TICKERS, 0.1), strict=True) if m]
    # Two fresh interpreters with different hash salts, as after two restarts.
    assert _in_fresh_process("1") == mine
    assert _in_fresh_process("12345") == mine


def test_it_uses_crc32_of_the_ticker():
    import zlib

    assert bucket("AAPL") == zlib.crc32(b"AAPL") % 10_000
    assert in_canary(["AAPL"], (bucket("AAPL") + 1) / 10_000).tolist() == [True]
    assert in_canary(["AAPL"], bucket("AAPL") / 10_000).tolist() == [False]


def test_it_serves_about_the_share_and_grows_without_moving_symbols():
    small, large = in_canary(TICKERS, 0.1), in_canary(TICKERS, 0.3)
    assert 0.08 < small.mean() < 0.12
    assert 0.27 < large.mean() < 0.33
    assert not (small & ~large).any()  # every canary symbol of 10% stays in at 30%


def test_it_handles_the_ends_of_the_range():
    assert not in_canary(TICKERS, 0.0).any()
    assert in_canary(TICKERS, 1.0).all()
    assert in_canary([], 0.5).shape == (0,)
    assert isinstance(in_canary(TICKERS[:3], 0.5), np.ndarray)
