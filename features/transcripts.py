"""Lexicon scores of the earnings-call transcripts, computed once and cached under ``var/``.

Source: ``SHARED_DATA_DIR/text/earnings_call_transcripts_ectsum.tar.gz`` (ECTSum, 2018-2022),
files ``data/final/{train,val,test}/ects/TICKER_qN_YYYY.txt``, one sentence per line.

Scores of one transcript (see ``features/lexicon.py`` for the word lists):

* ``sentiment`` = (P - N) / (P + N) in [-1, 1], P / N = positive / negative words, a word's
  polarity flipped when one of the 3 preceding tokens is a negator; NaN when P + N = 0.
* ``confidence`` = C / (C + H) in [0, 1], C = confident / assertive words, H = hedging /
  uncertainty words; NaN when C + H = 0.
* ``guidance`` = +1 when sentences about guidance say "raised" more often than "lowered", -1
  for the reverse, 0 when guidance is only reaffirmed or the counts tie; NaN when no sentence
  raises, lowers or reaffirms guidance. A heuristic (phrase patterns), not a comparison with
  consensus expectations: the data has no guidance estimates.

The cache file ``var/features/transcript_scores.csv`` is keyed by the source archive's size and
mtime; delete it (or pass ``refresh=True``) to recompute.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from features import lexicon

ARCHIVE = "text/earnings_call_transcripts_ectsum.tar.gz"
_NAME = re.compile(r"/ects/([A-Za-z0-9.\-]+)_q([1-4])_(\d{4})\.txt$")
_TOKEN = re.compile(r"[a-z][a-z'\-]*")
_CATEGORIES = ("positive", "negative", "confident", "hedging")


def _compile(entries: tuple[str, ...]) -> tuple[set[str], tuple[str, ...], tuple[str, ...]]:
    exact = {e for e in entries if " " not in e and len(e) < 5}
    stems = tuple(e for e in entries if " " not in e and len(e) >= 5)
    phrases = tuple(e for e in entries if " " in e)
    return exact, stems, phrases


_LISTS = {
    "positive": _compile(lexicon.POSITIVE),
    "negative": _compile(lexicon.NEGATIVE),
    "confident": _compile(lexicon.CONFIDENT),
    "hedging": _compile(lexicon.HEDGING),
}


@lru_cache(maxsize=200_000)
def _classify(token: str) -> tuple[bool, ...]:
    out = []
    for cat in _CATEGORIES:
        exact, stems, _ = _LISTS[cat]
        out.append(token in exact or token.startswith(stems))
    return tuple(out)


def score_text(text: str) -> dict[str, float]:
    """Lexicon counts and the three scores of one transcript."""
    lower = text.lower()
    tokens = _TOKEN.findall(lower)
    counts = dict.fromkeys(_CATEGORIES, 0)
    for i, tok in enumerate(tokens):
        pos, neg, conf, hedge = _classify(tok)
        if pos or neg:
            negated = any(t in lexicon.NEGATION for t in tokens[max(0, i - 3) : i])
            if negated:
                pos, neg = neg, pos
            counts["positive"] += pos
            counts["negative"] += neg
        counts["confident"] += conf
        counts["hedging"] += hedge
    for cat in _CATEGORIES:
        for phrase in _LISTS[cat][2]:
            counts[cat] += lower.count(phrase)
    p, n, c, h = (counts[k] for k in _CATEGORIES)
    raised = sum(len(rx.findall(text)) for rx in lexicon.GUIDANCE_RAISED)
    lowered = sum(len(rx.findall(text)) for rx in lexicon.GUIDANCE_LOWERED)
    reaffirmed = sum(len(rx.findall(text)) for rx in lexicon.GUIDANCE_REAFFIRMED)
    guidance = np.nan if raised + lowered + reaffirmed == 0 else float(np.sign(raised - lowered))
    return {
        "sentiment": (p - n) / (p + n) if p + n else np.nan,
        "confidence": c / (c + h) if c + h else np.nan,
        "guidance": guidance,
        "n_tokens": len(tokens),
        "n_positive": p,
        "n_negative": n,
        "n_confident": c,
        "n_hedging": h,
        "n_raised": raised,
        "n_lowered": lowered,
        "n_reaffirmed": reaffirmed,
    }


def iter_transcripts(archive: Path) -> Iterator[tuple[str, int, int, str]]:
    """(ticker, quarter, year, text) of every transcript file in the archive."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            m = _NAME.search(member.name)
            if not m or not member.isfile():
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            text = fh.read().decode("utf-8", errors="replace")
            yield m.group(1).upper(), int(m.group(2)), int(m.group(3)), text


def _cache_path() -> Path:
    return Path(settings.VAR_DIR) / "features" / "transcript_scores.csv"


def compute_scores(archive: Path | None = None) -> pd.DataFrame:
    archive = archive or settings.SHARED_DATA_DIR / ARCHIVE
    rows = []
    seen: set[tuple[str, int, int]] = set()
    for ticker, quarter, year, text in iter_transcripts(archive):
        if (ticker, quarter, year) in seen:  # the same call in two splits
            continue
        seen.add((ticker, quarter, year))
        rows.append({"ticker": ticker, "quarter": quarter, "year": year, **score_text(text)})
    return pd.DataFrame(rows).sort_values(["ticker", "year", "quarter"], ignore_index=True)


def transcript_scores(refresh: bool = False) -> pd.DataFrame:
    """Scores of every transcript (cached in var/features/transcript_scores.csv)."""
    archive = settings.SHARED_DATA_DIR / ARCHIVE
    stamp = f"{archive.stat().st_size}-{int(archive.stat().st_mtime)}"
    path = _cache_path()
    if path.exists() and not refresh:
        frame = pd.read_csv(path)
        if "stamp" in frame.columns and len(frame) and str(frame["stamp"].iloc[0]) == stamp:
            return frame.drop(columns=["stamp"])
    frame = compute_scores(archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.assign(stamp=stamp).to_csv(path, index=False)
    return frame
