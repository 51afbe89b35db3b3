"""``python manage.py bootstrap``: everything `make run` needs before the processes start.

Every step is idempotent: a second `make run` finds each one done and starts in seconds.

1. migrate;
2. reference data (symbols, earnings calendar, fundamentals) from ../shared/data;
3. price history of the replay file up to the day before ``REPLAY_START_DATE`` and the S&P 500
   index — the replay clock then appends one trading day per cycle, as a live market would;
4. transcript scores for the earnings features;
5. trained models: each kind is trained and activated only if none is active;
6. the explanation knowledge base;
7. the operator account.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Tier, User


class Command(BaseCommand):
    help = "Migrate, load data, make sure trained models exist, create the operator account."

    def handle(self, *args, **options) -> None:
        replay_start = dt.date.fromisoformat(settings.REPLAY_START_DATE)
        history_end = (replay_start - dt.timedelta(days=1)).isoformat()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("migrate", lambda: call_command("migrate", interactive=False, verbosity=0)),
            ("reference data", lambda: self.quiet("load_reference_data", "--once")),
            (
                f"price history of {settings.REPLAY_PRICES_FILE.name} until {history_end}",
                lambda: self.quiet(
                    "ingest",
                    "--provider",
                    "replay",
                    "--file",
                    str(settings.REPLAY_PRICES_FILE),
                    "--end",
                    history_end,
                    "--once",
                ),
            ),
            (
                "S&P 500 index",
                lambda: self.quiet("ingest", "--provider", "replay", "--index", "--once"),
            ),
            ("transcript scores", lambda: self.quiet("score_transcripts")),
            (
                "normal-day model",
                lambda: self.quiet("train", "--model", "normal", "--if-missing", "--activate"),
            ),
            (
                "earnings-day model",
                lambda: self.quiet("train", "--model", "earnings", "--if-missing", "--activate"),
            ),
            ("operator account", self.operator_account),
        ]
        for title, step in steps:
            started = time.perf_counter()
            self.stdout.write(f"== {title} ...")
            step()
            self.stdout.write(f"   done in {time.perf_counter() - started:.1f} s")

    def quiet(self, name: str, *args: str) -> None:
        """Run a command, keeping its JSON report out of the console but in var/bootstrap.log."""
        log_path = settings.VAR_DIR / "bootstrap.log"
        with log_path.open("a") as log:
            log.write(f"\n### {name} {' '.join(args)}\n")
            call_command(name, *args, stdout=log)

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
