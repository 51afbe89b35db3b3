"""What `make run` checks before it starts anything, each failure a short message (exit code 2)
instead of a traceback minutes later: the shared data folder, the platform of this checkout
already running or left behind by an unclean end, and the web port."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import psutil

from worker import processes

BASE_DIR = Path(__file__).resolve().parent.parent
# What bootstrap loads (reference data, replay history, index, earnings, transcripts, training).
REQUIRED_DATA = (
    "prices/sp500_members_daily_2005_2025.csv.gz",
    "index/sp500_index_close_1927_2026.csv",
    "index/sp500_index_ohlcv_1927_2023.csv",
    "earnings/earnings_dates_edgar8k_2003_2025.csv",
    "earnings/eps_actual_vs_estimate_1993_2025.csv",
    "fundamentals/fundamentals_annual_2012_2016.csv",
    "fundamentals/securities_sp500_2016.csv",
    "reference/sp500_constituents_2026-08-08.csv",
    "reference/sp500_constituents_snapshots_2012_2026.csv",
    "reference/us_listed_tickers_2025-07-09.csv",
    "text/earnings_call_transcripts_ectsum.tar.gz",
)


class PreflightError(Exception):
    """The platform cannot start; the message says what is wrong and how to fix it."""


def shared_data_dir() -> Path:
    return Path(os.environ.get("SHARED_DATA_DIR") or BASE_DIR.parent / "shared" / "data")


def check_data_folder(root: Path | None = None) -> None:
    root = root or shared_data_dir()
    missing = [name for name in REQUIRED_DATA if not (root / name).is_file()]
    if not missing:
        return
    where = "does not exist" if not root.is_dir() else f"lacks {len(missing)} file(s)"
    listed = "\n".join(f"  - {name}" for name in missing)
    raise PreflightError(
        f"The shared data folder {root} {where}:\n{listed}\n"
        "It is expected at ../shared/data beside the project, or wherever SHARED_DATA_DIR "
        "points.\nThe reference data (symbols, earnings calendar, fundamentals) and the models' "
        "training data come from it.\nWith Internet access, MARKET_DATA_PROVIDER=yfinance "
        "fetches the live quotes from Yahoo Finance instead of replaying prices/, but the other "
        "files are still needed."
    )


def end_leftovers(identity: str, say: processes.Say) -> None:
    """Processes of an earlier run of this checkout: refuse if its runner still lives, else end
    them in the usual order (an earlier runner that was killed left them)."""
    found = processes.marked(identity)
    if not found:
        return
    runner = processes.runner_of(found)
    if runner is not None:
        raise PreflightError(
            f"The platform of this checkout is already running (runner pid {runner}, "
            f"{len(found)} processes).\nStop it with Ctrl-C in its terminal, or `kill {runner}`, "
            "then start again."
        )
    names = sorted({processes.service_of(p) for p in found})
    say(f"ending {len(found)} leftover processes of an earlier run: {', '.join(names)}")
    tops = [p for p in found if _is_group_leader(p)]
    processes.stop_in_order([(processes.service_of(p), p) for p in tops], say)
    for process in processes.marked(identity):  # anything the groups did not hold
        process.kill()


def _is_group_leader(process: psutil.Process) -> bool:
    try:
        return bool(os.getpgid(process.pid) == process.pid)
    except OSError:
        return False


def check_port(port: int, host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
    holder = _port_holder(port)
    raise PreflightError(
        f"Port {port} is taken{holder}.\nStop that process, or start on another port: "
        f"PORT={port + 10} make run"
    )


def _port_holder(port: int) -> str:
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return ""
    for conn in connections:
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            if conn.pid is None:
                return " (by a process this user cannot see)"
            try:
                command = " ".join(psutil.Process(conn.pid).cmdline())[:160]
            except psutil.Error:
                command = "?"
            return f" by pid {conn.pid}: {command}"
    return ""
