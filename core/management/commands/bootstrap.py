"""``python manage.py bootstrap``: everything `make run` needs before the processes start.

Each step is idempotent, so a second `make run` reuses what exists and starts in seconds.
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Tier, User


class Command(BaseCommand):
    help = "Migrate, load data, make sure trained models exist, create the operator account."

    def handle(self, *args, **options) -> None:
        self.stdout.write("== migrate")
        call_command("migrate", interactive=False, verbosity=0)
        self.operator_account()

    def operator_account(self) -> None:
        username = os.environ.get("OPERATOR_USERNAME", "operator")
        password = os.environ.get("OPERATOR_PASSWORD")
        user = User.objects.filter(username=username).first()
        saved = settings.VAR_DIR / "operator_credentials.txt"
        if user is not None and password is None:
            hint = f"; credentials in {saved}" if saved.exists() else ""
            self.stdout.write(f"== operator account {username!r} exists{hint}")
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
            self.style.SUCCESS(f"== operator account: username={username} password={password}")
        )
