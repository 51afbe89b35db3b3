"""``python manage.py eval_grounding [--json] [--file PATH] [--split NAME] [--show-errors]``

Runs the grounding check over the labelled evaluation set (``explanations/eval/
grounding_eval.jsonl``: real texts of the embedded model for real predictions, each with the
facts and excerpts it was checked against and the team's label) and reports how well the check
agrees with the labels:

- ``unsupported_caught``: share of texts labelled unsupported that the check rejects (recall on
  unsupported texts, the failure that matters: an invented claim shown to a user);
- ``supported_kept``: share of texts labelled supported that the check passes;
- the confusion counts, overall and per split (``splits``; ``--split NAME`` scores one split
  only). Which splits were held out when is in docs/explanations.md ("Evaluation of the check"):
  ``dev`` was looked at while rules were written; ``test`` and ``test2`` were held out until
  their first score; ``test3`` (54 texts) and ``test4`` (27 free texts at depth deep), both of
  2026-11-29, were labelled and committed before the claim-form checker (``claims.py``) was
  run on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from explanations.facts import Fact
from explanations.grounding import check

EVAL_FILE = Path(__file__).resolve().parents[2] / "eval" / "grounding_eval.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def judge(item: dict[str, Any]) -> tuple[bool, list[str]]:
    facts = [Fact(key, label, value, kind) for key, label, value, kind in item["facts"]]
    result = check(item["text"], facts, item.get("excerpts", []))
    return result.passed, result.problems


def score(items: list[dict[str, Any]], verdicts: list[bool]) -> dict[str, Any]:
    counts = {
        "supported_passed": 0,
        "supported_failed": 0,
        "unsupported_passed": 0,
        "unsupported_failed": 0,
    }
    for item, passed in zip(items, verdicts, strict=True):
        counts[f"{item['label']}_{'passed' if passed else 'failed'}"] += 1
    supported = counts["supported_passed"] + counts["supported_failed"]
    unsupported = counts["unsupported_passed"] + counts["unsupported_failed"]
    return {
        "n": len(items),
        "supported": supported,
        "unsupported": unsupported,
        "unsupported_caught": round(counts["unsupported_failed"] / unsupported, 4)
        if unsupported
        else None,
        "supported_kept": round(counts["supported_passed"] / supported, 4) if supported else None,
        "confusion": counts,
    }


class Command(BaseCommand):
    help = "Agreement of the grounding check with the labelled evaluation set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--file", type=Path, default=EVAL_FILE)
        parser.add_argument("--show-errors", action="store_true", help="List disagreements")
        parser.add_argument("--split", default="", help="Score only this split")

    def handle(self, *args: Any, **options: Any) -> None:
        items = load(options["file"])
        if options["split"]:
            items = [i for i in items if i.get("split") == options["split"]]
        judged = [judge(item) for item in items]
        verdicts = [passed for passed, _ in judged]
        report = score(items, verdicts)
        report["splits"] = {
            split: score(
                [i for i in items if i.get("split") == split],
                [v for i, v in zip(items, verdicts, strict=True) if i.get("split") == split],
            )
            for split in sorted({i.get("split", "") for i in items})
        }
        if options["show_errors"]:
            report["disagreements"] = [
                {"id": i["id"], "label": i["label"], "reason": i["reason"], "problems": p}
                for i, (passed, p) in zip(items, judged, strict=True)
                if passed != (i["label"] == "supported")
            ]
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(
            f"n={report['n']} unsupported_caught={report['unsupported_caught']} "
            f"supported_kept={report['supported_kept']} {report['confusion']}"
        )
