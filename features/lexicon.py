"""A small finance lexicon for earnings-call transcripts (written for this project).

The categories follow the idea of Loughran & McDonald (2011) — finance-specific positive,
negative and uncertainty words, because general-purpose sentiment lists misread words such as
"liability", "tax" or "cost" — but the lists here are our own, short and hand-picked for
earnings calls. An entry of five letters or more is a stem matched as a prefix of a lower-case token
("improv" matches improve, improved, improvement); shorter entries must equal the token
("soft" must not match "software"); entries with a space are matched as phrases.

* POSITIVE / NEGATIVE: tone of the call. ``transcript_sentiment = (P - N) / (P + N)``.
* CONFIDENT / HEDGING: how assertive management is. ``mgmt_confidence = C / (C + H)``.
* NEGATION: a positive/negative word preceded (within 3 tokens) by a negator flips polarity
  ("not strong" counts as negative).
* Guidance phrases: regular expressions for raised / lowered / reaffirmed guidance
  (``guidance_surprise``).
"""

from __future__ import annotations

import re

POSITIVE: tuple[str, ...] = (
    "strong",
    "stronger",
    "strength",
    "robust",
    "record",
    "improv",
    "grow",
    "growth",
    "gain",
    "exceed",
    "outperform",
    "beat",
    "accelerat",
    "momentum",
    "expand",
    "expansion",
    "success",
    "profitab",
    "favorable",
    "favourable",
    "upside",
    "solid",
    "healthy",
    "excellent",
    "outstanding",
    "tailwind",
    "achiev",
    "milestone",
    "opportunit",
    "benefit",
    "resilien",
    "pleased",
    "encourag",
    "optimis",
    "exciting",
    "excited",
    "efficien",
    "innovat",
    "best",
    "higher",
    "increase",
    "rebound",
    "recover",
    "win",
    "wins",
    "won",
    "leadership",
    "attractive",
)

NEGATIVE: tuple[str, ...] = (
    "weak",
    "declin",
    "decreas",
    "loss",
    "losses",
    "impair",
    "headwind",
    "challeng",
    "difficult",
    "pressure",
    "shortfall",
    "miss",
    "missed",
    "downturn",
    "slowdown",
    "slower",
    "soft",
    "deteriorat",
    "adverse",
    "unfavorable",
    "unfavourable",
    "disappoint",
    "litigation",
    "restructur",
    "layoff",
    "writedown",
    "write-down",
    "charge",
    "deficit",
    "delay",
    "disrupt",
    "shortage",
    "inflation",
    "volatil",
    "negative",
    "worse",
    "lower",
    "drop",
    "fell",
    "fall",
    "dropped",
    "reduc",
    "downgrade",
    "concern",
    "problem",
    "default",
    "bankrupt",
    "recession",
    "lost",
)

CONFIDENT: tuple[str, ...] = (
    "confident",
    "confidence",
    "certain",
    "clearly",
    "definitely",
    "committed",
    "commit",
    "will",
    "deliver",
    "conviction",
    "convinced",
    "strongly",
    "firmly",
    "undoubtedly",
    "assur",
    "determined",
    "well-positioned",
    "positioned",
    "on track",
    "track record",
    "absolutely",
    "fully",
    "always",
)

HEDGING: tuple[str, ...] = (
    "may",
    "might",
    "could",
    "possibl",
    "perhaps",
    "uncertain",
    "unclear",
    "unpredictab",
    "approximately",
    "roughly",
    "hope",
    "hopefully",
    "attempt",
    "try",
    "trying",
    "somewhat",
    "depend",
    "risk",
    "assum",
    "probabl",
    "unknown",
    "cautious",
    "caution",
    "tentative",
    "maybe",
    "fluctuat",
    "variab",
    "difficult to predict",
    "not sure",
    "guess",
    "seems",
    "appear",
)

NEGATION: frozenset[str] = frozenset(
    {"not", "no", "never", "neither", "nor", "without", "didn't", "don't", "doesn't", "isn't",
     "wasn't", "aren't", "weren't", "cannot", "can't", "won't", "hardly"}
)  # fmt: skip

_GUIDE = r"(?:guidance|outlook|forecast|full[- ]year (?:target|expectation|range)s?)"
_GAP = r"[^.;]{0,60}?"
GUIDANCE_RAISED: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b(?:rais|increas|lift|boost|improv|up)\w*\s+{_GAP}\b{_GUIDE}", re.I),
    re.compile(rf"\b{_GUIDE}\b{_GAP}\b(?:raised|increased|lifted|higher|upgraded)\b", re.I),
)
GUIDANCE_LOWERED: tuple[re.Pattern[str], ...] = (
    re.compile(
        rf"\b(?:lower|reduc|cut|trim|withdr[ae]w|suspend|narrow\w* down)\w*\s+{_GAP}\b{_GUIDE}",
        re.I,
    ),
    re.compile(rf"\b{_GUIDE}\b{_GAP}\b(?:lowered|reduced|cut|trimmed|withdrawn|suspended)\b", re.I),
)  # fmt: skip
GUIDANCE_REAFFIRMED: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b(?:reaffirm|reiterat|maintain|confirm)\w*\s+{_GAP}\b{_GUIDE}", re.I),
    re.compile(rf"\b{_GUIDE}\b{_GAP}\b(?:unchanged|reaffirmed|reiterated|maintained)\b", re.I),
)
