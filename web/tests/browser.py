"""Headless Chromium for the browser tests, driven by Playwright's sync API in a thread of its own.

Playwright's sync API runs an asyncio loop in the thread that uses it, and Django refuses ORM
calls from a thread with a running loop; so every browser step runs in one dedicated worker
thread (``session.run(fn)``) while the test's own thread stays free to use the database, publish
predictions and make assertions.

Debian's ``chromium`` (``apt-get install chromium``, the Makefile's ``browser`` target) is used as
it is: ``playwright install`` is never run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from daphne.testing import DaphneProcess

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    from playwright.sync_api import ViewportSize
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
VENDOR = Path(settings.BASE_DIR) / "static" / "vendor"

T = TypeVar("T")


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing: `make browser` (apt-get install chromium)"
    if not (VENDOR / "lightweight-charts.js").exists():
        return "static/vendor is empty: `make frontend` (npm ci + scripts/vendor_static.mjs)"
    return None


class BrowserSession:
    """One Chromium with one page, living in a dedicated thread."""

    def __init__(self, base_url: str, *, width: int = 1360, height: int = 900) -> None:
        self.base_url = base_url
        self.size: ViewportSize = {"width": width, "height": height}
        self.console_errors: list[str] = []  # console.error lines, failed requests included
        self.page_errors: list[str] = []  # uncaught JavaScript exceptions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._pool.submit(self._start).result()

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        self._context = self._browser.new_context(base_url=self.base_url, viewport=self.size)
        self._context.set_default_timeout(20_000)
        self.page = self._context.new_page()
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    @property
    def csp_violations(self) -> list[str]:
        """Console errors of the Content-Security-Policy (core.security_headers) refusing
        something a page tried to load or run."""
        return [line for line in self.console_errors if "Content Security Policy" in line]

    def run(self, step: Callable[[Any], T]) -> T:
        """Run ``step(page)`` in the browser thread and return its result (exceptions too; the
        page at the moment of failure is saved as var/screenshots/failure-<step>.png)."""
        try:
            return self._pool.submit(step, self.page).result()
        except Exception:
            name = getattr(step, "__name__", "step").strip("<>")
            # The browser itself may be gone; the original error matters.
            with contextlib.suppress(Exception):
                self.screenshot(f"failure-{name}.png")
            raise

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.run(lambda page: page.screenshot(path=str(path), full_page=True))
        return path

    def close(self) -> None:
        def stop(_page) -> None:
            self._context.close()
            self._browser.close()
            self._playwright.stop()

        try:
            self._pool.submit(stop, None).result()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SpawnedDaphneProcess(DaphneProcess):  # type: ignore[misc]  # Daphne is untyped
    """Channels' live server, started with ``spawn`` instead of ``fork``.

    By the time the browser tests run, this pytest process has loaded TensorFlow (the model
    tests), whose threads and abseil mutexes do not survive a ``fork``: the forked server then
    aborts ("mutex.cc: Check w->waitp->cond == nullptr failed"). A spawned server is a fresh
    interpreter that loads the same test settings from the environment.
    """

    _context = multiprocessing.get_context("spawn")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Synchronisation objects must come from the spawn context to be passed to the child.
        self.port: Synchronized[int] = self._context.Value("i", self.port.value)
        self.ready = self._context.Event()
        self.errors = self._context.Queue()

    @staticmethod
    def _Popen(process_obj):
        return SpawnedDaphneProcess._context.Process._Popen(process_obj)
