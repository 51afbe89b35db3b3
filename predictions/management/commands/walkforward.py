"""``python manage.py walkforward --model normal|earnings|horizon_5d|horizon_20d [--prices PATH]
[--from YEAR] [--to YYYY-MM-DD] [--max-train-rows N] --json``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from predictions.ml.data import ALL_KINDS, FEATURE_SETS
from predictions.ml.lifecycle import BOOSTER_TARGETS, MAX_TRAIN_ROWS


class Command(BaseCommand):
    help = (
        "Walk-forward evaluation: retrain (expanding window, calibrated on the previous year) "
        "and predict each test year; prints per-year figures, baselines and a summary."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from predictions.ml.walkforward import DEFAULT_FIRST_YEAR

        parser.add_argument("--model", required=True, choices=ALL_KINDS)
        parser.add_argument("--prices", default=None, help="Price file (default: training file)")
        parser.add_argument("--from", dest="first_year", type=int, default=DEFAULT_FIRST_YEAR)
        parser.add_argument("--to", dest="to", type=date.fromisoformat, default=None)
        parser.add_argument(
            "--max-train-rows",
            type=int,
            default=MAX_TRAIN_ROWS,
            help="Uniform seeded subsample of each year's training rows (default: the live "
            "retrain's count)",
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--epochs", type=int, default=None)
        parser.add_argument(
            "--scheme", default=None, help="Model inputs: raw | xs_rank | xs_rank_sector"
        )
        parser.add_argument("--target", default=None, help="Point target: raw | idiosyncratic")
        parser.add_argument(
            "--point-model", default=None, help="Point forecast: network | lightgbm | blend"
        )
        parser.add_argument(
            "--feature-set",
            default=None,
            choices=FEATURE_SETS,
            help="Stored features read: base | price",
        )
        parser.add_argument(
            "--booster-target",
            default=None,
            choices=BOOSTER_TARGETS,
            help="LightGBM target: point (the point head's) | xs_rank (per-day rank)",
        )
        parser.add_argument("--no-store", action="store_true", help="Do not store the result")
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        from predictions.ml.walkforward import WalkForwardOptions, walk_forward

        wf = WalkForwardOptions(
            kind=opts["model"],
            prices=opts["prices"],
            first_year=opts["first_year"],
            to=opts["to"],
            max_train_rows=opts["max_train_rows"],
            seed=opts["seed"],
            epochs=opts["epochs"],
            scheme=opts["scheme"],
            target=opts["target"],
            point_model=opts["point_model"],
            feature_set=opts["feature_set"],
            booster_target=opts["booster_target"],
            store=not opts["no_store"],
        )
        try:
            result = walk_forward(wf)
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(result, default=str))
            return
        for year in result["years"]:
            self.stdout.write(
                f"{year['year']}: n={year['n']} mae_ratio={year['mae_ratio']} "
                f"rank_ic={year['rank_ic']} coverage={year['coverage_p10_p90']}"
            )
        self.stdout.write(f"summary: {json.dumps(result['summary'], default=str)}")
