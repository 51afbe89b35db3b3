"""The cycle's accuracy step (``record_realised``) beside inference and the dual write.

Realising the outcomes of earlier forecasts touches only records whose target day has come
(target <= the cycle's data day), never the records the cycle writes (their target is later),
so it can run on a second PostgreSQL connection from the moment the cycle starts: the UPDATE
executes in its own server process while this process runs the models and the write. The
cycle waits for it before the interval state takes the day's outcomes (``finish``), so what
the next cycle sees is unchanged; only the wall time of the cycle shrinks.

A caller inside a transaction (a test case, a management command wrapping the cycle) cannot
lend its rows to a second connection: there the step runs inline at ``finish``, as before.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

from predictions.accuracy import CYCLE_LOOKBACK_DAYS, record_realised

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-realise")


def _realise(day: dt.date) -> int:
    """The records whose target is the cycle's own day (the hourly sweep takes late ones)."""
    return record_realised(day, lookback_days=CYCLE_LOOKBACK_DAYS)


def _in_thread(day: dt.date) -> tuple[int, float]:
    """(records realised, ms) on the helper thread's own connection, closed afterwards so no
    connection outlives the step."""
    started = time.perf_counter()
    try:
        return _realise(day), (time.perf_counter() - started) * 1000
    finally:
        connection.close()


class Realisation:
    """``start`` at the beginning of the cycle, ``finish`` after the dual write. A database
    error of the step is raised by ``finish``, as an inline step would raise it (the pipeline
    task retries the whole, idempotent cycle)."""

    def __init__(self, day: dt.date, future: Future[tuple[int, float]] | None) -> None:
        self.day = day
        self._future = future
        self.background_ms: float | None = None

    @classmethod
    def start(cls, day: dt.date) -> Realisation:
        if connection.in_atomic_block:
            return cls(day, None)
        return cls(day, _pool.submit(contextvars.copy_context().run, _in_thread, day))

    def finish(self) -> int:
        if self._future is None:
            return _realise(self.day)
        realised, self.background_ms = self._future.result()
        return realised

    def abandon(self) -> None:
        """Wait for a step already running when the cycle failed (its error is the cycle's
        own error or a retry's problem: the step is idempotent)."""
        if self._future is not None:
            self._future.exception()
