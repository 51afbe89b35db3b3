"""``python manage.py train --model normal|earnings|horizon_5d|horizon_20d [--until YYYY-MM-DD]
[--activate]``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from predictions.ml.data import ALL_KINDS, FEATURE_SETS
from predictions.ml.lifecycle import BOOSTER_TARGETS, MAX_TRAIN_ROWS


class Command(BaseCommand):
    help = "Train, calibrate, evaluate, export (ONNX) and register a model; prints JSON metrics."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", required=True, choices=ALL_KINDS)
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            default=None,
            help="Last data day used (default: the file's last day)",
        )
        parser.add_argument(
            "--activate",
            action="store_true",
            help="Make the new version the active one of its kind",
        )
        parser.add_argument(
            "--prices",
            type=str,
            default=None,
            help="Price file, or 'db' for the daily PriceBars (default: TRAINING_DATA_SOURCE)",
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--max-train-rows",
            type=int,
            default=MAX_TRAIN_ROWS,
            help="Uniform seeded subsample of the training rows",
        )
        parser.add_argument(
            "--epochs",
            type=int,
            default=None,
            help="Override the default epoch count (12 normal, 60 earnings)",
        )
        parser.add_argument(
            "--point-model",
            default=None,
            help="Point forecast: network | lightgbm | blend (default: the kind's)",
        )
        parser.add_argument(
            "--feature-set",
            default=None,
            choices=FEATURE_SETS,
            help="Stored features read: base | price (default: the kind's)",
        )
        parser.add_argument(
            "--booster-target",
            default=None,
            choices=BOOSTER_TARGETS,
            help="LightGBM target: point | xs_rank (default: the kind's)",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when the kind already has an active version",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        from predictions.ml import registry

        kind = opts["model"]
        mv = registry.active_version(kind) if opts["if_missing"] else None
        if mv is not None:
            self.stdout.write(
                json.dumps(
                    {"kind": kind, "version": mv.version, "status": mv.status, "skipped": True}
                )
            )
            return
        from predictions.ml.train import TrainOptions, train

        options = TrainOptions(
            kind=kind,
            prices=opts["prices"],
            until=opts["until"],
            seed=opts["seed"],
            max_train_rows=opts["max_train_rows"],
            epochs=opts["epochs"],
            point_model=opts["point_model"],
            feature_set=opts["feature_set"],
            booster_target=opts["booster_target"],
        )
        try:
            result = train(options, activate=opts["activate"] or opts["if_missing"])
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, indent=2, default=str))
