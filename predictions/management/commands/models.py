"""``python manage.py models list [--kind K] | activate KIND VERSION | rollback KIND``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from predictions.ml.data import ALL_KINDS


class Command(BaseCommand):
    help = "List model versions, activate one, or roll back to the previously active one."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--kind", choices=ALL_KINDS, default=None)
        act = sub.add_parser("activate")
        act.add_argument("kind", choices=ALL_KINDS)
        act.add_argument("version")
        back = sub.add_parser("rollback")
        back.add_argument("kind", choices=ALL_KINDS)

    def handle(self, *args: Any, **opts: Any) -> None:
        from predictions.ml import registry
        from predictions.models import ModelVersion

        try:
            if opts["action"] == "list":
                qs = ModelVersion.objects.all()
                if opts["kind"]:
                    qs = qs.filter(kind=opts["kind"])
                self.stdout.write(json.dumps([registry.describe(mv) for mv in qs], indent=2))
                return
            if opts["action"] == "activate":
                mv = registry.activate_version(
                    opts["kind"], opts["version"], reason="activated by `manage.py models`"
                )
            else:
                mv = registry.rollback(opts["kind"])
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(registry.describe(mv)))
