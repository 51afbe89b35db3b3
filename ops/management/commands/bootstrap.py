"""``python manage.py bootstrap``: everything `make run` needs before the processes start.

Every step is idempotent: a second `make run` finds each one done and starts in seconds.

1. migrate;
2. reference data (symbols, earnings calendar, fundamentals) from ../shared/data;
3. price history of the replay file up to the day before ``REPLAY_START_DATE`` and the S&P 500
   index — the replay clock then appends one trading day per cycle, as a live market would;
4. transcript scores for the earnings features;
5. trained models: each kind is trained and activated only if none is active;
6. the explanation knowledge base (playbooks now; pattern notes queued; every transcript
   indexed in the background by a chain of tasks on the index worker);
7. the operator account.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Tier, User
from explanations.models import Document, DocumentSource


class Command(BaseCommand):
    help = "Migrate, load data, make sure trained models exist, create the operator account."

    def handle(self, *args: Any, **options: Any) -> None:
        self.step("migrate", self.migrate)
        for title, command in self.data_commands():
            self.step(title, partial(self.quiet, *command))
        self.queue_knowledge_base()
        self.step("operator account", self.operator_account)

    def queue_knowledge_base(self) -> None:
        for source, command in self.knowledge_base_commands():
            # The transcripts' chain itself finds what is missing (a stop can cut it short).
            resumable = source == DocumentSource.TRANSCRIPT
            if not resumable and Document.objects.filter(source=source).exists():
                # Queued on an earlier run; `index_documents` refreshes them on demand.
                self.stdout.write(f"== knowledge base: {source} documents present")
                continue
            self.step(f"knowledge base: {source} (queued)", partial(self.quiet, *command))

    def data_commands(self) -> list[tuple[str, list[str]]]:
        replay_start = dt.date.fromisoformat(settings.REPLAY_START_DATE)
        history_end = (replay_start - dt.timedelta(days=1)).isoformat()
        replay_file = str(settings.REPLAY_PRICES_FILE)
        return [
            ("reference data", ["load_reference_data", "--once"]),
            (
                f"price history of {settings.REPLAY_PRICES_FILE.name} until {history_end}",
                ["ingest", "--provider", "replay", "--file", replay_file, "--end", history_end,
                 "--once"],
            ),
            ("S&P 500 index", ["ingest", "--provider", "replay", "--index", "--once"]),
            # The beat task relabels only every 6 h: the dashboard and the accuracy page need
            # the regimes of the replayed days from the start (`regimes` for older years).
            ("market regime", ["regimes", "--from-year", str(replay_start.year)]),
            ("transcript scores", ["score_transcripts"]),
            ("normal-day model", ["train", "--model", "normal", "--if-missing", "--activate"]),
            ("earnings-day model", ["train", "--model", "earnings", "--if-missing", "--activate"]),
            # The 5- and 20-day models (issue 19), on half the one-day model's rows to keep the
            # bootstrap short; the live cycle serves one-day forecasts until they exist.
            ("5-day model", ["train", "--model", "horizon_5d", "--if-missing", "--activate",
                             "--max-train-rows", "200000"]),
            ("20-day model", ["train", "--model", "horizon_20d", "--if-missing", "--activate",
                              "--max-train-rows", "200000"]),
            ("knowledge base: playbooks",
             ["index_documents", "--source", "playbooks", "--mode", "inline"]),
        ]  # fmt: skip

    def knowledge_base_commands(self) -> list[tuple[str, list[str]]]:
        """Embedding tens of thousands of chunks takes an hour on a CPU: the niced index worker
        does it in the background once it runs (transcripts: a chain of small tasks that
        continues where it stopped, ``explanations.indexing.start_transcript_chain``)."""
        limit = settings.KB_TRANSCRIPTS_LIMIT
        return [
            (DocumentSource.PATTERN,
             ["index_documents", "--source", "patterns", "--mode", "queue", "--no-wait"]),
            (DocumentSource.TRANSCRIPT,
             ["index_documents", "--source", "transcripts", "--mode", "background",
              *(["--limit", str(limit)] if limit else [])]),
        ]  # fmt: skip

    def step(self, title: str, run: Callable[[], str | None]) -> None:
        started = time.perf_counter()
        self.stdout.write(f"== {title} ...")
        report = run() or ""
        seconds = time.perf_counter() - started
        # A command that found its work done says so in its JSON report ("skipped": true).
        done = "already there" if '"skipped": true' in report else "done"
        self.stdout.write(f"   {done} in {seconds:.1f} s")

    def migrate(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)

    def quiet(self, name: str, *args: str) -> str:
        """Run a command, keeping its JSON report out of the console but in var/bootstrap.log;
        the report is returned."""
        report = io.StringIO()
        call_command(name, *args, stdout=report)
        log_path = settings.VAR_DIR / "bootstrap.log"
        with log_path.open("a") as log:
            log.write(f"\n### {name} {' '.join(args)}\n{report.getvalue()}")
        return report.getvalue()

    def operator_account(self) -> None:
        username = os.environ.get("OPERATOR_USERNAME", "operator")
        password = os.environ.get("OPERATOR_PASSWORD")
        user = User.objects.filter(username=username).first()
        saved = settings.VAR_DIR / "operator_credentials.txt"
        if user is not None and password is None:
            hint = f"; credentials in {saved}" if saved.exists() else ""
            self.stdout.write(f"   operator account {username!r} exists{hint}")
            return
        password = password or secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser(
                username,
                os.environ.get("OPERATOR_EMAIL", "operator@localhost"),
                password,
                tier=Tier.ENTERPRISE,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(f"username={username}\npassword={password}\n")
        saved.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"   operator account: username={username} password={password}")
        )
