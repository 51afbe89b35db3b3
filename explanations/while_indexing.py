"""``bench explain``: cold explanations requested while a bulk index runs, on the real workers.

What ``make run`` runs: the ``explain`` and ``index`` workers of worker/Procfile (the index one
under ``nice``), the API view that queues a job, Celery on Redis. The measurement:

1. the two workers are used when they already consume their queues, else started here from
   their Procfile lines (and stopped afterwards); one explanation through the explain worker
   loads its models first (not counted: a running platform has them loaded);
2. ``index_documents_batch`` tasks for ``transcripts`` transcripts go to the ``index`` queue
   (``force``: documents already stored are embedded again and their chunks replaced with the
   same content, so the index worker does the work of a first index);
3. ``n`` cold explanations (cache key removed) are requested with ``POST /api/explanation/
   {symbol}`` and polled until their job completes, first with no indexing
   (``cold_via_workers_*``, the baseline on the same path), then while those index tasks run
   (``cold_while_indexing_*``; one counts only when it completed before the bulk index did);
   the index tasks still unfinished then are revoked (the niced worker may be far from done on
   a loaded machine: it yields the CPU, which is the point). ``queue_wait`` is the time from
   the request to the explain worker starting the job: the part that would grow if
   explanations waited behind indexing.

Rows it creates (temporary predictions and symbols, explanation jobs, the bench user) are
deleted at the end; predictions already in the database are used as they are.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

WORKERS = {"explain": "explain", "index": "index"}  # Procfile process -> queue it consumes
POLL_SECONDS = 0.05
JOB_TIMEOUT_SECONDS = 120.0
BENCH_USER = "bench-explain-indexing"


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def procfile_command(name: str) -> str:
    for line in (Path(settings.BASE_DIR) / "worker" / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"worker/Procfile has no {name!r} process")


def _start_worker(name: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.setdefault("LOG_SERVICE", name)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.Popen(
        ["bash", "-c", procfile_command(name)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped as one below
    )


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) each started worker's processes have used so far."""
    import psutil

    out: dict[str, float] = {}
    for name, pid in pids.items():
        total = 0.0
        with suppress(psutil.Error):
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                with suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        out[name] = total
    return out


@contextmanager
def procfile_workers(timeout: float = 90.0) -> Iterator[dict[str, Any]]:
    """The explain and index workers: {"state": {process: "running" | "started"}, "pids":
    {process: pid} of those started here}."""
    from core.tasking import workers_consuming

    started: dict[str, subprocess.Popen[bytes]] = {}
    state: dict[str, str] = {}
    try:
        for name, queue in WORKERS.items():
            if workers_consuming(queue):
                state[name] = "running"
                continue
            started[name] = _start_worker(name)
            state[name] = "started"
        deadline = time.monotonic() + timeout
        for name, queue in WORKERS.items():
            while name in started and not workers_consuming(queue):
                if time.monotonic() > deadline or started[name].poll() is not None:
                    raise RuntimeError(f"the {name} worker did not start")
                time.sleep(0.5)
        yield {"state": state, "pids": {name: proc.pid for name, proc in started.items()}}
    finally:
        for proc in started.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in started.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def send_bulk_index(transcripts: int, docs_per_batch: int = 16) -> list[Any]:
    """``index_documents_batch`` tasks (forced) for the first transcripts of the data set."""
    from core.tasking import send_now
    from explanations.sources.transcripts import iter_transcripts

    specs = [spec.to_dict() for spec in iter_transcripts(limit=transcripts)]
    return [
        send_now("explanations.tasks.index_documents_batch", specs[i : i + docs_per_batch], True)
        for i in range(0, len(specs), docs_per_batch)
    ]


class _Requests:
    """Cold explanation requests through the API view, as the site sends them."""

    def __init__(self, depth: str) -> None:
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        self.depth = depth
        self.user = get_user_model().objects.create_user(BENCH_USER, tier="enterprise")
        self.client = APIClient()
        self.client.force_authenticate(self.user)
        self.job_ids: list[str] = []

    def one(self, symbol: str) -> tuple[float, float, bool]:
        """(request to completion, request to the worker starting it) in milliseconds, and
        whether the job failed (e.g. its time limit on an overloaded machine)."""
        from explanations import cache
        from explanations.models import Explanation, ExplanationStatus

        cache.client().delete(cache.key(symbol))
        t = time.perf_counter()
        response = self.client.post(
            f"/api/explanation/{symbol}", {"depth": self.depth}, format="json"
        )
        if response.status_code != 202:
            raise RuntimeError(f"POST /api/explanation/{symbol}: {response.status_code}")
        job_id = response.json()["job_id"]
        self.job_ids.append(job_id)
        started_ms: float | None = None
        while time.perf_counter() - t < JOB_TIMEOUT_SECONDS:
            status = Explanation.objects.filter(job_id=job_id).values_list("status", flat=True)
            state = status.first()
            if started_ms is None and state != ExplanationStatus.QUEUED:
                started_ms = (time.perf_counter() - t) * 1000.0
            if state in (ExplanationStatus.COMPLETED, ExplanationStatus.FAILED):
                failed = state == ExplanationStatus.FAILED
                return (time.perf_counter() - t) * 1000.0, started_ms or 0.0, failed
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"explanation {job_id} did not finish in {JOB_TIMEOUT_SECONDS} s")

    def clean_up(self) -> None:
        from explanations import cache
        from explanations.models import Explanation

        jobs = Explanation.objects.filter(job_id__in=self.job_ids)
        for symbol in set(jobs.values_list("symbol", flat=True)):
            cache.client().delete(cache.key(symbol))
        jobs.delete()
        self.user.delete()


def _stop(bulk: list[Any]) -> dict[str, Any]:
    """Collect the finished batches; revoke the rest (the running one is terminated: a batch is
    written in one transaction, so nothing half-written stays)."""
    from celery import current_app

    from core.tasking import discard_queued

    done = [r.get(timeout=30) for r in bulk if r.ready()]
    unfinished = [r.id for r in bulk if not r.ready()]
    if unfinished:
        discard_queued("index", unfinished)  # waiting ones: no later worker may run them
        current_app.control.revoke(unfinished, terminate=True)
    return {
        "batches": len(bulk),
        "batches_done": len(done),
        "chunks_done": sum(d["chunks"] for d in done),
    }


def _measure(
    symbols: list[str], transcripts: int, n: int, requests: _Requests, pids: dict[str, int]
) -> dict[str, Any]:
    """``n`` cold explanations without, then with the bulk index running. The CPU seconds the
    workers started here used in that window show which of them got the CPU, whatever else
    runs on the machine."""
    requests.one(symbols[0])  # the explain worker loads its models (not counted)
    alone = [requests.one(symbols[i % len(symbols)])[0] for i in range(n)]
    bulk = send_bulk_index(transcripts)
    cpu_before = cpu_seconds(pids)
    t = time.perf_counter()
    total: list[float] = []
    waits: list[float] = []
    failures = 0
    for i in range(n):
        if all(r.ready() for r in bulk):
            break
        ms, wait_ms, failed = requests.one(symbols[i % len(symbols)])
        if not all(r.ready() for r in bulk):  # count only those that ended while it ran
            total.append(ms)
            waits.append(wait_ms)
            failures += failed
    seconds = time.perf_counter() - t
    cpu = {k: round(v - cpu_before[k], 1) for k, v in cpu_seconds(pids).items()}
    progress = _stop(bulk)
    return {
        "cold_via_workers_p50_ms": _pct(alone, 50),
        "cold_via_workers_p95_ms": _pct(alone, 95),
        "cold_while_indexing_p50_ms": _pct(total, 50),
        "cold_while_indexing_p95_ms": _pct(total, 95),
        "cold_while_indexing_n": len(total),
        "cold_while_indexing_failed": failures,
        "worker_cpu_seconds_while_indexing": cpu,
        "cold_while_indexing_queue_wait_p95_ms": _pct(waits, 95),
        "cold_while_indexing_queue_wait_max_ms": round(max(waits), 2) if waits else None,
        "bulk_index": {
            "transcripts": transcripts,
            **progress,
            "seconds": round(seconds, 1),
            "chunks_per_s_while_explaining": round(progress["chunks_done"] / seconds, 1),
        },
    }


def cold_while_indexing(
    symbols: list[str], created: list[str], transcripts: int, n: int, depth: str
) -> dict[str, Any]:
    """The measurement (module docstring). ``created``: symbols whose rows the caller created
    for the run, deleted here afterwards."""
    from ingestion.models import Symbol

    requests = _Requests(depth)
    try:
        with procfile_workers() as workers:
            out = _measure(symbols, transcripts, n, requests, workers["pids"])
            out["workers"] = workers["state"]
            out["worker_commands"] = {n: shlex.split(procfile_command(n))[:4] for n in WORKERS}
            return out
    finally:
        requests.clean_up()
        Symbol.objects.filter(ticker__in=created).delete()
