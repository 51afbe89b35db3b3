"""``python manage.py eval_grounding_texts --out PATH [--mode free|grammar] [--seed N]
[--depth medium|deep]``

Generates new texts of the embedded model for the evaluation set of the grounding check
(``eval_grounding``), the way the pipeline does (``service._generate``): the prompt is
``prompt.build_messages`` of the prediction's facts and retrieved excerpts, the first attempt is
free (temperature 0.2), the regeneration is held to ``constrained.grammar_for`` (temperature
0.7), both with ``LLM_MAX_TOKENS`` tokens and cut at their last whole sentence
(``service.whole_sentences``).

The predictions are the real ones stored with the evaluation set (one per symbol; the facts and
excerpts of its latest rows), rebuilt into ``Facts``: prices, the interval, the model's inputs,
the earnings dates and the key drivers (texts formatted as ``drivers.key_drivers`` formats them).
Excerpt titles are the playbooks' own (every stored excerpt is a playbook section).

Rows are written unlabelled (``label`` and ``reason`` empty): a person labels them before the
check is run on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from explanations import conf
from explanations.constrained import grammar_for
from explanations.facts import Facts, feature_kind, format_value
from explanations.management.commands.eval_grounding import EVAL_FILE, load
from explanations.retrieval import Excerpt
from explanations.service import whole_sentences
from explanations.sources.playbooks import PLAYBOOK_DIR, parse_playbook

PREDICTION_KEYS = {
    "symbol",
    "current_price",
    "predicted_return_1d",
    "predicted_price",
    "confidence",
    "interval_level",
    "model_type",
    "model_version",
    "p10",
    "p10_price",
    "p50",
    "p50_price",
    "p90",
    "p90_price",
    "uncertainty_sigma",
    "data_date",
}
EARNINGS_KEYS = {"eps_estimate", "eps_actual", "announcement_date", "reaction_date"}


def facts_of(item: dict[str, Any]) -> Facts:
    """The ``Facts`` an evaluation row was checked against, rebuilt from its fact list."""
    by_key = {key: (label, value, kind) for key, label, value, kind in item["facts"]}
    prediction: dict[str, Any] = {
        key: by_key[key][1]
        for key in (
            "current_price",
            "predicted_return_1d",
            "predicted_price",
            "p10",
            "p50",
            "p90",
            "model_type",
            "model_version",
        )
        if key in by_key
    }
    prediction["data_timestamp"] = f"{by_key['data_date'][1]}T00:00:00Z"
    features = {
        key: float(value)
        for key, (_label, value, kind) in by_key.items()
        if key not in PREDICTION_KEYS | EARNINGS_KEYS
        and not key.startswith("contribution_")
        and kind in ("return", "number")
    }
    earnings = {k: by_key[k][1] for k in EARNINGS_KEYS if k in by_key} or None
    drivers = []
    for key, (_label, value, _kind) in by_key.items():
        if not key.startswith("contribution_"):
            continue
        feature = key.removeprefix("contribution_")
        label, shown = by_key[feature][0], format_value(features[feature], feature_kind(feature))
        direction = "up" if float(value) > 0 else "down"
        drivers.append(
            {
                "feature": feature,
                "label": label,
                "value": features[feature],
                "display_value": shown,
                "contribution": float(value),
                "direction": direction,
                "text": (
                    f"{label} {shown} (moves the forecast {direction} by "
                    f"{abs(float(value)) * 100:.2f}%)"
                ),
            }
        )
    return Facts(item["symbol"], prediction, features, earnings, drivers)


def _playbook_titles() -> dict[str, str]:
    """Section text -> document title, to title the stored playbook excerpts."""
    titles: dict[str, str] = {}
    for path in sorted(PLAYBOOK_DIR.glob("*.md")):
        spec = parse_playbook(path)
        for chunk in spec.chunks:
            titles[chunk.text] = spec.title
    return titles


def excerpts_of(item: dict[str, Any], titles: dict[str, str]) -> list[Excerpt]:
    return [
        Excerpt(0, 0, titles.get(text, "Playbook"), "playbook", "", "", None, text, 0.0, 0.0)
        for text in item.get("excerpts", [])
    ]


def _predictions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One stored row per symbol: its latest (the facts are the same in every row of it)."""
    latest: dict[str, dict[str, Any]] = {}
    for item in items:
        latest[item["symbol"]] = item
    return [latest[s] for s in sorted(latest)]


class Command(BaseCommand):
    help = "New unlabelled texts of the embedded model for the grounding evaluation set."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--mode", choices=["free", "grammar"], default="free")
        parser.add_argument("--seed", type=int, default=31)
        parser.add_argument("--split", default="test3")
        parser.add_argument("--symbols", default="", help="comma-separated subset")
        parser.add_argument("--depth", choices=["medium", "deep"], default="medium")

    def handle(self, *args: Any, **options: Any) -> None:
        from explanations.llm.llamacpp import LlamaCppBackend, get_llama
        from explanations.prompt import build_messages

        backend = LlamaCppBackend()
        titles = _playbook_titles()
        wanted = {s for s in options["symbols"].upper().split(",") if s}
        deep = options["depth"] == "deep"  # as service.DEPTHS: twice the tokens, 4 excerpts
        max_tokens = int(conf.get("LLM_MAX_TOKENS")) * (2 if deep else 1)
        grammar_mode = options["mode"] == "grammar"
        temperature = 0.7 if grammar_mode else 0.2
        for item in _predictions(load(EVAL_FILE)):
            if wanted and item["symbol"] not in wanted:
                continue
            facts = facts_of(item)
            messages = build_messages(
                facts,
                excerpts_of(item, titles),
                max_excerpts=4 if deep else 2,
                for_grammar=grammar_mode,  # as the service prompts a grammar-held attempt
            )
            get_llama().set_seed(options["seed"])
            generation = backend.generate(
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                grammar=grammar_for(facts) if grammar_mode else None,
            )
            text = whole_sentences(generation.text, cut_off=generation.tokens >= max_tokens)
            row = {
                "id": "",
                "split": options["split"],
                "label": "",
                "reason": "",
                "symbol": item["symbol"],
                "data_date": item["data_date"],
                "model_type": item["model_type"],
                "model": backend.model,
                "temperature": temperature,
                "attempt": "grammar" if grammar_mode else "free",
                "depth": options["depth"],
                "seed": options["seed"],
                "raw_text": generation.text,
                "text": text,
                "facts": item["facts"],
                "excerpts": item.get("excerpts", []),
            }
            with options["out"].open("a") as out:
                out.write(json.dumps(row) + "\n")
            self.stdout.write(f"{item['symbol']} {generation.tokens} tokens")
