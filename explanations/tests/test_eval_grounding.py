"""``eval_grounding``: its JSON keys, the confusion counts per split, and the labelled set's
shape (every text labelled with a reason, a held-out split of new texts)."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from explanations.management.commands.eval_grounding import EVAL_FILE, load

FACTS = [
    ["symbol", "symbol", "A", "text"],
    ["current_price", "current price", 125.42, "price"],
    ["predicted_return_1d", "predicted 1-day return", 0.000697, "return"],
    ["predicted_price", "predicted price", 125.5074, "price"],
    ["p10", "p10 of the next-day return", -0.020356, "return"],
    ["p90", "p90 of the next-day return", 0.018596, "return"],
    ["interval_level", "interval coverage", 0.8, "return"],
]


def _row(split: str, label: str, text: str) -> str:
    item = {"id": text[:8], "split": split, "label": label, "reason": "r", "symbol": "A"}
    return json.dumps({**item, "text": text, "facts": FACTS, "excerpts": []})


def test_it_reports_the_confusion_counts_overall_and_per_split(tmp_path):
    supported = "A is predicted to rise 0.07% on the next trading day."
    invented = "A is predicted to rise 0.07% thanks to the model's proven ability."
    unnoticed = "A is predicted to rise 0.07% on a 2-day forward carry."
    path = tmp_path / "eval.jsonl"
    path.write_text(
        "\n".join(
            [
                _row("dev", "supported", supported),
                _row("dev", "unsupported", invented),
                _row("test3", "unsupported", unnoticed),
                _row("test3", "supported", "The 80% interval runs from -2.04% to +1.86%."),
            ]
        )
    )
    out = StringIO()
    call_command("eval_grounding", "--json", "--file", str(path), stdout=out)
    report = json.loads(out.getvalue())
    assert {"n", "unsupported_caught", "supported_kept", "confusion", "splits"} <= set(report)
    assert report["n"] == 4 and report["unsupported_caught"] == 1.0
    assert report["supported_kept"] == 1.0
    assert report["splits"]["test3"]["confusion"] == {
        "supported_passed": 1,
        "supported_failed": 0,
        "unsupported_passed": 0,
        "unsupported_failed": 1,
    }
    out = StringIO()
    call_command("eval_grounding", "--json", "--file", str(path), "--split", "dev", stdout=out)
    assert json.loads(out.getvalue())["n"] == 2


def test_it_keeps_a_labelled_held_out_split_of_new_texts():
    items = load(EVAL_FILE)
    assert len({i["id"] for i in items}) == len(items)
    assert all(i["label"] in ("supported", "unsupported") and i["reason"] for i in items)
    test3 = [i for i in items if i["split"] == "test3"]
    assert len(test3) >= 40
    assert {i["attempt"] for i in test3} == {"free", "grammar"}
