"""``python manage.py backtest [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--source records|walkforward]
[--cost-bps 5] [--model normal] [--file PATH] --json``: trade the forecasts of each day, print the
figures per strategy next to the S&P 500 buy-and-hold, store them for the ``/backtest`` page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from decisions import store
from decisions.backtest import BacktestError, Options, backtest


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Backtest the forecasts: decile long-short, long-only top decile, inverse-width sizing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=_day, default=None)
        parser.add_argument("--to", dest="end", type=_day, default=None)
        parser.add_argument("--source", choices=["records", "walkforward"], default="records")
        parser.add_argument("--cost-bps", type=float, default=5.0)
        parser.add_argument("--model", default="normal", help="walk-forward model kind")
        parser.add_argument("--file", type=Path, default=None, help="walk-forward file to read")
        parser.add_argument(
            "--database",
            default=None,
            help="read the records from this database of the server (e.g. a kept replay_eval)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--no-store", action="store_true", help="do not store the result")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["cost_bps"] < 0:
            raise CommandError("--cost-bps must be >= 0")
        options = Options(cost_bps=opts["cost_bps"], start=opts["start"], end=opts["end"])
        try:
            result = backtest(
                opts["source"],
                options,
                model=opts["model"],
                path=opts["file"],
                database=opts["database"],
            )
        except BacktestError as exc:
            raise CommandError(str(exc)) from exc
        if not opts["no_store"]:
            store.save(opts["source"], result)
        printed = {k: v for k, v in result.items() if k != "curves"}
        if opts["json"]:
            self.stdout.write(json.dumps(printed, indent=2))
            return
        for name, figures in printed["strategies"].items():
            self.stdout.write(
                f"{name:28s} net {figures['annual_return']:+.2%}/yr sharpe {figures['sharpe']}"
            )
        bh = printed["sp500_buy_and_hold"]
        self.stdout.write(f"{'S&P 500 buy-and-hold':28s}     {bh['annual_return']:+.2%}/yr")
