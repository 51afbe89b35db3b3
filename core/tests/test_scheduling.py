"""A niced worker's session (its autogroup) is niced too, so ``nice`` holds against processes
of other sessions (core/scheduling.py)."""

from __future__ import annotations

import subprocess
import sys
import weakref

import pytest
from celery.signals import worker_init
from django.conf import settings

from core.apps import _nice_autogroup
from core.scheduling import autogroup_nice

PROBE = (
    "from core.scheduling import autogroup_nice, nice_autogroup; "
    "print(nice_autogroup(), autogroup_nice())"
)

needs_autogroup = pytest.mark.skipif(
    autogroup_nice() is None, reason="this kernel schedules without autogroups"
)


def _probe(*prefix: str) -> str:
    # A session of its own, as the runner (worker/processes.py) starts each Procfile process.
    done = subprocess.run(
        [*prefix, sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=True,
    )
    return done.stdout.strip()


@needs_autogroup
def test_it_nices_the_session_of_a_niced_process():
    assert _probe("nice", "-n", "7") == "7 7"


@needs_autogroup
def test_it_leaves_the_session_of_an_unniced_process_alone():
    assert _probe() == "None 0"


def test_it_nices_each_celery_worker_at_start():
    receivers = [
        ref() if isinstance(ref, weakref.ref) else ref for _k, ref in worker_init.receivers
    ]
    assert _nice_autogroup in receivers
