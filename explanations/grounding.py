"""The grounding check, claim by claim: every sentence of a text must be supported by the
facts it was given (forecast, interval, drivers, earnings facts, features) or by a retrieved
excerpt, and none may promise outcomes or recommend trades.

Sentences. The text is split into sentences and each is judged on its own; the text passes only
if every sentence does. A sentence is supported only when it is one of the closed set of claim
forms of ``claims.py`` (the forecast, the interval, the confidence, the sigma, a key driver, a
fact by its label, the data date, the earnings day, the post-mortem's sentences), every slot of
which is checked against the facts, or when it copies a retrieved excerpt. What no form makes
fails whatever its words, so the check does not depend on having seen a phrase before. The
rules below no longer decide; they name the reasons of a sentence that fails ("claim about the
model", "horizon other than the next trading day", ...). The problems name the sentence they
were found in.

Numbers. Every number in the text must match a fact within the rounding the text shows: "1.2%"
matches 0.0123 (1.23 rounds to 1.2), "+1.23%" needs a positive fact, "-0.5%" a negative one, an
unsigned number matches either sign ("fell 0.50%" states -0.005 as 0.50), "$152.4" a price of
152.40, "1.5 billion" or "$1.5B" a dollar volume of 1.52e9, "25 bps" 0.0025. Numbers that are
part of a metric's name ("20-day", "RSI 14", "p90", "S&P 500", "10-K") are not claims and are
removed first. A number that appears verbatim in one of the retrieved excerpts the model was
shown is accepted (it is cited, not invented), as are bare counts from 1 to 5 ("three drivers").

Direction. A direction word next to a figure ("rise 0.42%") or to the forecast ("predicted to
fall") must agree with the sign of the fact it names.

Metrics. A metric the text names (RSI, P/E, EPS, margins, ...) must be among the facts or in the
excerpts; a model that talks about a P/E ratio nobody gave it is making it up.

Unverifiable claims. The model's abilities or track record, history ("over the past decade"),
and market commentary (investors, the economy, sentiment of the market) are not among the facts:
a sentence making them fails unless a retrieved excerpt says the same.

Promises. "will rise", "guaranteed", "definitely", "risk-free", buy/sell recommendations fail.

Horizon. The forecast is for the next trading day; "over the next 5 days", "a 2-day forward
carry", "next week" or "in the long term" are not facts given.
Echo. Copied prompt instructions or headings ("in 2-3 sentences", "PREDICTION DATA") fail.

Substance. The text must state at least one figure of the forecast itself (return, price,
interval bound, sigma or confidence); a reply with no numbers would otherwise pass vacuously.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from explanations import claims
from explanations.facts import Fact

WINDOW_NUMBERS = "1|2|3|4|5|10|12|14|20|26|30|50|60|90|120|200|252"
_LABEL_PATTERNS = [
    rf"\b(?:{WINDOW_NUMBERS})[- ]?(?:day|week|month|year|quarter|d|m)s?\b",
    r"\bp(?:10|50|90)\b",
    r"\bS&P\s?500\b",
    r"\bRSI[\s(-]*14\)?",
    r"\b(?:SMA|EMA|MA)[\s(-]*\d+\)?",
    r"\b50\s?/\s?200\b",
    r"\b(?:10-K|10-Q|8-K)\b",
    r"\bQ[1-4]\b",
    r"\bp(?:10|90)\s?(?:-|to|\u2013)\s?p(?:10|90)\b",
]
_LABELS = re.compile("|".join(_LABEL_PATTERNS), re.IGNORECASE)
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[+-])?\s?(?P<dollar>\$)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<unit>%|percent(?:age points?)?\b|pp\b|bps\b|basis points?\b|"
    r"thousand\b|million\b|billion\b|trillion\b|[kKmMbBtT]\b))?"
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}

# (metric as named in text, pattern, facts any of which makes the metric known)
METRICS: list[tuple[str, str, set[str]]] = [
    ("RSI", r"\bRSI\b|relative strength", {"rsi_14"}),
    ("MACD", r"\bMACD\b", {"macd"}),
    ("beta", r"\bbeta\b", {"market_beta"}),
    ("Bollinger bands", r"\bbollinger", {"bollinger_position"}),
    ("ATR", r"\bATR\b|average true range", {"atr"}),
    ("moving average", r"moving average|golden cross|death cross|\bSMA\b", {"sma_50_200_cross"}),
    (
        "volatility",
        r"\bvolatil",
        {
            "volatility_5d",
            "volatility_20d",
            "volatility_60d",
            "market_volatility",
            "uncertainty_sigma",
        },
    ),
    ("volume", r"\bvolume\b", {"volume_ratio_5d", "volume_ratio_20d", "dollar_volume"}),
    (
        "momentum",
        r"\bmomentum\b",
        {"return_5d", "return_20d", "return_60d", "return_120d", "return_252d"},
    ),
    ("EPS", r"\bEPS\b|earnings per share", {"eps_surprise_pct", "eps_actual", "eps_estimate"}),
    ("revenue", r"\brevenues?\b|\bsales\b", {"revenue_surprise_pct", "revenue_growth_yoy"}),
    ("gross margin", r"gross margin", {"gross_margin"}),
    ("operating margin", r"operating margin", {"operating_margin"}),
    ("net margin", r"net margin|profit margin", {"net_margin"}),
    ("ROIC", r"\bROIC\b|return on invested capital", {"roic"}),
    ("free cash flow", r"free[- ]cash[- ]flow|\bFCF\b", {"fcf_margin"}),
    ("guidance", r"\bguidance\b|\boutlook\b", {"guidance_surprise"}),
    ("sentiment", r"\bsentiment\b", {"transcript_sentiment"}),
    ("fundamental score", r"fundamental (quality )?score", {"fundamental_score"}),
    ("pattern score", r"pattern score", {"pattern_score"}),
    ("P/E ratio", r"\bP/?E\b|price[- /]to[- ]earnings|earnings multiple", set()),
    ("dividend yield", r"dividend yield|\bdividends?\b", set()),
    ("market capitalisation", r"market cap", set()),
    ("EBITDA", r"\bEBITDA\b", set()),
    ("debt", r"\bdebt\b|leverage ratio", set()),
    ("ROE", r"\bROE\b|return on equity", set()),
    ("price target", r"price target|analyst (rating|target|consensus)", set()),
    ("short interest", r"short interest", set()),
    ("implied volatility", r"implied volatility|\bVIX\b|options?\b", set()),
]

# The forecast is for the next trading day only; other horizons are claims nobody made.
_COUNT = r"(?:\d+(?:\s?-\s?\d+)?|few|several|two|three|four|five|six|seven|ten)"
HORIZON = re.compile(
    rf"\b(?:in|over|within|for) (?:the )?(?:next |coming )?{_COUNT} (?:trading )?"
    r"(?:days|weeks|months|years)\b|"
    rf"\b{_COUNT} (?:trading )?(?:days|weeks|months|years) (?:after|later|ahead|from now|out)\b|"
    rf"\b(?:around|about|approximately|roughly|take|takes|took|last|lasts|within) (?:the )?"
    rf"{_COUNT} (?:trading )?(?:days|weeks|months|years)\b|"
    rf"\b{_COUNT}[- ](?:trading[- ])?(?:day|week|month|year)s?[- ](?:forward|ahead|horizon|"
    r"carry|holding|outlook|forecast|prediction)\b|"
    r"\b(?:next|coming|following) (?:few |several )?(?:days|weeks?|months?|years?|sessions)\b|"
    r"\b(?:this|next) (?:week|month|year)\b|\b(?:long|medium)[- ]term\b|\bover time\b|"
    r"\bin the (?:near |distant )?future\b|\bin the coming\b|"
    r"\b(?:continue|continues|continuing|persist|persists|sustained)\b",
    re.IGNORECASE,
)
# Small models sometimes copy the prompt's instructions or headings into the answer.
PROMPT_ECHO = re.compile(
    r"in 2-3 (?:plain )?sentences|PREDICTION DATA|RETRIEVED CONTEXT|KEY DRIVERS \(from|"
    r"^Premise:|\bin (?:only |just )?(?:two|three|2|3|2 or 3)(?:-3)? (?:plain )?sentences\b|"
    r"\busing (?:the )?numbers\b|\bnumbers (?:from|given|provided)\b|\bas provided\b|"
    r"\bcopied exactly\b|\binvent numbers\b|\bhow uncertain this is\b",
    re.IGNORECASE | re.MULTILINE,
)

PROMISES: list[tuple[str, str]] = [
    (
        "promised direction",
        (
            r"\bwill\s+(?:certainly\s+|surely\s+|definitely\s+)?(?:rise|fall|increase|decrease|"
            r"go up|go down|climb|drop|gain|jump|surge|soar|rally|plunge|decline|reach|hit|"
            r"outperform|underperform|double|grow)\b"
        ),
    ),
    ("guarantee", r"\bguarantee[sd]?\b|\bassured\b"),
    (
        "certainty",
        (
            r"\bdefinitely\b|\bcertainly\b|\bfor sure\b|\bno doubt\b|\bwithout doubt\b|"
            r"\bsure thing\b|\bcan(?:'t|not) lose\b|\brisk[- ]free\b|\bsafe bet\b"
        ),
    ),
    (
        "recommendation",
        (
            r"\b(?:strong\s+)?(?:buy|sell)\b(?![- ]side)|\bshould (?:buy|sell|invest|"
            r"hold)\b|\baccumulate\b|\boverweight\b|\bunderweight\b|\bgo long\b|"
            r"\bgo short\b|\btake profits?\b"
        ),
    ),
]


# Facts of the forecast itself: an explanation must state at least one of them.
CORE_FACTS = {
    "predicted_return_1d",
    "predicted_price",
    "p10",
    "p50",
    "p90",
    "uncertainty_sigma",
    "confidence",
}

# Claims no fact can support: the model's abilities or record, history, market commentary.
UNVERIFIABLE: list[tuple[str, str]] = [
    (
        "claim about the model",
        (
            r"\bmodel'?s (?:ability|abilities|capacity|track record|accuracy|performance|strength|"
            r"success|reliability|expertise)\b|\b(?:ability|capacity) (?:of the model )?to "
            r"(?:predict|forecast|make predictions)\b|\bproven\b|\breliable\b|\baccurate(?:ly)?\b|"
            r"\b(?:not possible|impossible|unable) (?:for the model )?to predict\b|"
            r"\b(?:limited )?data ?sets?\b|\bdoes not (?:account|take into account)\b|"
            r"\b(?:other|various|external) factors\b|\bconfirm(?:s|ed)?\b|\bvalidat\w*|"
            r"\b(?:new|more|external|the|past|historical|market) data\b|\bupdated?\b|"
            r"\bregularly\b|\banalys[ie]s\b|\bcombination of\b|\bnot based on\b|"
            r"\bunpredictab\w*|\bfuture (?:returns?|prices?|performance|movements?)\b|"
            r"\bsophisticated\b|\balgorithms?\b|\bmachine learning\b"
        ),
    ),
    (
        "qualitative claim the figures do not make",
        (
            r"\bextreme(?:ly)?\b|\bvery (?:high|low|likely|unlikely|small|large|strong|weak|"
            r"significant|positive|negative|bullish|bearish)\b|\bhighly\b|"
            r"\bsignificant(?:ly)?\b|\bsubstantial(?:ly)?\b|\bdramatic(?:ally)?\b|"
            r"\bsharp(?:ly)?\b|\bstrong(?:ly)?\b|\bsolid\b|\brobust\b|\bhealthy\b|"
            r"\b(?:high|low|strong|good|great) (?:probability|likelihood|chance)\b|"
            r"\b(?:probability|likelihood|chance) (?:\w+ ){0,6}is (?:\w+ )?(?:low|high)\b"
        ),
    ),
    (
        "history",
        (
            r"\bhistor(?:y|ical|ically)\b|\bover the (?:past|last)\b|\bin recent (?:years|months|"
            r"decades)\b|\bdecades?\b|\bpast (?:data|performance|years|decade)\b|\btrack record\b|"
            r"\bfor years\b|\bhas (?:long )?been a key\b"
        ),
    ),
    (
        "market commentary",
        (
            r"\binvestors?\b|\btraders?\b|\banalysts?\b|\bmarket (?:sentiment|conditions|"
            r"participants|performance|trends?|dynamics|forces)\b|\beconom(?:y|ic|ies)\b|"
            r"\binterest rates?\b|\binflation\b|\bthe fed\b|\bgeopolitic|\bbullish\b|\bbearish\b|"
            r"\boptimis|\bpessimis|\bkey component\b|\bindustry\b|\bcompetit|\bwidely\b|"
            r"\bstock market performance\b|\bsector\b|\bnews\b|\bhype\b|\bfear\b|"
            r"\bupside for the company\b|\b(?:volatility|unpredictability|state|nature|"
            r"direction|behaviou?r|movements?|mood|swings?) of the (?:stock )?market\b|"
            r"\bmarket (?:uncertainty|movements?|swings?|noise|events?)\b|\bdemand\b|"
            r"\bglobal\b|\bearnings season\b|\bsupply chain\b"
        ),
    ),
]

POSITIVE = (
    r"rise|rises|rising|increase|increases|gain|gains|climb|climbs|(?:go|goes|move|moves) up|"
    r"grow|grows|upside|advance|advances|jump|jumps"
)
NEGATIVE = (
    r"fall|falls|falling|decrease|decreases|decline|declines|drop|drops|(?:go|goes|move|moves) "
    r"down|loss|losses|downside|slip|slips|slide|slides|dip|dips"
)
# Facts that have no direction of their own (always positive): no direction word contradicts them.
UNSIGNED_FACTS = {"confidence", "interval_level", "uncertainty_sigma"}
_DIRECTION = re.compile(rf"\b(?P<pos>{POSITIVE})\b|\b(?P<neg>{NEGATIVE})\b", re.IGNORECASE)
_FORECAST_DIRECTION = re.compile(
    rf"\b(?:predict\w*|expect\w*|forecast\w*|project\w*|anticipat\w*)\s+(?:to\s+|a\s+|an\s+)?"
    rf"(?:(?P<pos>{POSITIVE})|(?P<neg>{NEGATIVE}))\b",
    re.IGNORECASE,
)
# Concepts that are facts of every forecast, or of some: a sentence about them is anchored.
CONCEPTS: list[tuple[str, set[str]]] = [
    (r"\binterval\b|\brange\b|\bp10\b|\bp90\b|\bbounds?\b", {"p10", "p90"}),
    (r"\buncertain(?:ty)?\b|\bsigma\b", {"uncertainty_sigma", "p10", "p90"}),
    (r"\bconfiden(?:ce|t)\b", {"confidence"}),
    (r"\bpredict\w*|\bforecast\w*", {"predicted_return_1d"}),
    (r"\bearnings(?:[- ]day| reaction| release| announcement)\b", {"earnings_day"}),
    (r"\b(?:key )?drivers?\b|\binputs?\b", {"drivers"}),
]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$+\-])")
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
EXCERPT_OVERLAP = 0.6  # share of a sentence's content words found in one excerpt


@dataclass
class SentenceVerdict:
    text: str
    supported: bool
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "supported": self.supported, "problems": self.problems}


@dataclass
class GroundingResult:
    passed: bool
    problems: list[str] = field(default_factory=list)
    numbers_checked: int = 0
    sentences: list[SentenceVerdict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "problems": self.problems,
            "numbers_checked": self.numbers_checked,
            "sentences": [s.as_dict() for s in self.sentences],
        }


@dataclass(frozen=True)
class _Candidate:
    value: float
    is_pct: bool
    key: str


@dataclass
class _Context:
    """What a text is checked against, prepared once per check."""

    facts: list[Fact]
    excerpts: list[str]
    text: str
    candidates: list[_Candidate]
    fact_keys: set[str]
    fact_dates: set[str]
    predicted_sign: int
    # (feature, label) of the key drivers, largest absolute contribution first
    drivers: list[tuple[str, str]] = field(default_factory=list)
    forms: claims.ClaimContext | None = None

    @classmethod
    def build(cls, facts: list[Fact], excerpts: Iterable[str]) -> _Context:
        keys = {f.key for f in facts}
        if any(f.key == "model_type" and f.value == "earnings_day" for f in facts) or keys & {
            "eps_estimate",
            "eps_actual",
            "announcement_date",
            "reaction_date",
        }:
            keys.add("earnings_day")
        if any(f.key.startswith("contribution_") for f in facts):
            keys.add("drivers")
        predicted = next((float(f.value) for f in facts if f.key == "predicted_return_1d"), 0.0)
        excerpt_list = [e for e in excerpts if e]
        return cls(
            facts=facts,
            excerpts=excerpt_list,
            text="\n".join(excerpt_list),
            candidates=_candidates(facts),
            fact_keys=keys,
            fact_dates={str(f.value) for f in facts if f.kind == "date"},
            predicted_sign=(predicted > 0) - (predicted < 0),
            drivers=_ranked_drivers(facts),
            forms=claims.ClaimContext(facts),
        )


@dataclass
class _Numbers:
    """The figures of one sentence: how many, which matched facts, what failed."""

    checked: int = 0
    anchored: bool = False
    states_prediction: bool = False
    problems: list[str] = field(default_factory=list)


def _ranked_drivers(facts: Iterable[Fact]) -> list[tuple[str, str]]:
    prefix = "contribution of "
    contributions = [
        (abs(float(f.value)), f.key.removeprefix("contribution_"), f.label.removeprefix(prefix))
        for f in facts
        if f.key.startswith("contribution_") and f.is_numeric
    ]
    return [(key, label) for _, key, label in sorted(contributions, reverse=True)]


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _candidates(facts: Iterable[Fact]) -> list[_Candidate]:
    """(value in the units text uses, is a percentage, fact key) for each numeric fact."""
    out: list[_Candidate] = []
    for fact in facts:
        if not fact.is_numeric:
            continue
        v = float(fact.value)
        if fact.kind == "return":
            out.append(_Candidate(v * 100.0, True, fact.key))
        out.append(_Candidate(v, False, fact.key))
    return out


def _matching(x: float, tol: float, sign: str | None, cands: list[_Candidate]) -> list[_Candidate]:
    out = []
    for c in cands:
        if sign == "-" and c.value > tol:
            continue
        if sign == "+" and c.value < -tol:
            continue
        target = c.value if sign else abs(c.value)
        if abs(abs(x) - abs(target)) <= tol:
            out.append(c)
    return out


def _context_has(token: str, context: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", context) is not None


def _normalise(text: str) -> str:
    return text.replace("\u2212", "-").replace("\u2013", "-").replace("\u2009", " ")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(_normalise(text).strip()) if s.strip()]


def _strip_names_and_dates(sentence: str, ctx: _Context, out: _Numbers) -> str:
    """Remove what is not a numeric claim (names, metric labels), checking dates and years."""
    cleaned = sentence
    for f in ctx.facts:  # names given as facts (symbol, model version "v2.1")
        if f.kind == "text" and str(f.value).strip():
            cleaned = cleaned.replace(str(f.value), " ")
    fact_years = {d[:4] for d in ctx.fact_dates}

    def _date(m: re.Match[str]) -> str:
        if m.group(0) in ctx.fact_dates:
            out.anchored = True
        elif m.group(0) not in ctx.text:
            out.problems.append(f"date '{m.group(0)}' matches no fact")
        return " "

    def _year(m: re.Match[str]) -> str:
        if m.group(0) not in fact_years and not _context_has(m.group(0), ctx.text):
            out.problems.append(f"year '{m.group(0)}' matches no fact")
        return " "

    cleaned = _DATE.sub(_date, cleaned)
    cleaned = _LABELS.sub(" ", cleaned)
    return _YEAR.sub(_year, cleaned)


def _number_matches(m: re.Match[str], ctx: _Context) -> list[_Candidate]:
    """The facts a number of the text can be (empty: it matches none)."""
    num, sign, unit = m["num"], m["sign"], (m["unit"] or "").lower()
    x = float(num.replace(",", ""))
    tol = 0.5 * 10 ** (-_decimals(num)) + 1e-9
    if unit in ("bps", "basis point", "basis points"):
        x, tol, unit = x / 100.0, tol / 100.0, "%"
    pct = [c for c in ctx.candidates if c.is_pct]
    if unit.startswith("percent") or unit in ("%", "pp"):
        return _matching(x, tol, sign, pct)
    mult = _MULTIPLIERS.get(unit, 1.0)
    found = _matching(x * mult, tol * mult, sign, ctx.candidates)
    if not found and mult == 1.0 and not m["dollar"]:
        found = _matching(x, tol, sign, pct)  # "rose 1.23" without the % sign
    return found


def _direction_before(sentence: str, start: int) -> int:
    """+1/-1 for a direction word among the three words before a figure, else 0."""
    words = sentence[:start].split()[-3:]
    found = 0
    for m in _DIRECTION.finditer(" ".join(words)):
        found = 1 if m["pos"] else -1
    return found


# A figure introduced as one of these quantities must be that fact ("a confidence level of
# 0.68" when the confidence is 50.7% and 0.68 is the beta).
_NAMED_FIGURES: list[tuple[re.Pattern[str], set[str]]] = [
    (re.compile(r"\bconfiden(?:ce|t)\b", re.IGNORECASE), {"confidence", "interval_level"}),
    (
        re.compile(r"\bsigma\b|\buncertainty\b", re.IGNORECASE),
        {"uncertainty_sigma", "p10", "p90", "interval_level"},
    ),
]


def _named_as(sentence: str, m: re.Match[str], found: list[_Candidate]) -> str | None:
    position = sentence.find(m["num"])
    before = " ".join(sentence[: max(position, 0)].split()[-4:])
    for pattern, keys in _NAMED_FIGURES:
        named = pattern.search(before)
        if named and not any(c.key in keys for c in found):
            return f"figure named as {named[0]} is not that fact: '{m[0].strip()}'"
    return None


def _check_numbers(sentence: str, cleaned: str, ctx: _Context, out: _Numbers) -> None:
    for m in _NUMBER.finditer(cleaned):
        out.checked += 1
        found = _number_matches(m, ctx)
        if found and (wrong := _named_as(sentence, m, found)):
            out.problems.append(wrong)
            continue
        if found:
            out.anchored = True
            out.states_prediction |= any(c.key in CORE_FACTS for c in found)
            _check_direction(sentence, m, found, out)
            _check_forecast_figure(sentence, m, found, out)
            continue
        num = m["num"]
        if _context_has(num, ctx.text):
            out.anchored = True  # quoted from an excerpt
            continue
        plain = not m["sign"] and not m["unit"] and not m["dollar"] and "." not in num
        if plain and float(num.replace(",", "")) <= 5:
            continue  # a bare count ("three drivers" written as 3)
        out.problems.append(f"number '{m.group(0).strip()}' matches no fact")


# Verbs that state the forecast ("predicts a", "expected to rise"); "moves the forecast down by"
# names a driver's contribution.
_FORECAST_WORDS = re.compile(
    r"\b(?:predict\w*|expect\w*)\b|\bforecast(?:s|ed)? (?:a|an|to)\b", re.IGNORECASE
)


# What "predicts a 0.03%" / "expected to be around 1.26%" may state: the forecast itself (return,
# price, median) or an interval bound. Sigma and confidence are not a predicted return.
FORECAST_FIGURES = {
    "predicted_return_1d",
    "predicted_price",
    "p10",
    "p50",
    "p90",
    "p10_price",
    "p50_price",
    "p90_price",
}
_NAMED_QUANTITY = re.compile(
    r"uncertain|sigma|volatil|confiden|interval|range|bound|between|from|to\s*$|probab|chance",
    re.IGNORECASE,
)


def _check_forecast_figure(
    sentence: str, m: re.Match[str], found: list[_Candidate], out: _Numbers
) -> None:
    """ "predicts a 0.17% increase" must state the forecast, not a driver's contribution or the
    sigma that happens to have the same value."""
    position = sentence.find(m["num"])
    before = " ".join(sentence[: max(position, 0)].split()[-4:])
    stated_as_forecast = position >= 0 and _FORECAST_WORDS.search(before)
    if not stated_as_forecast or _NAMED_QUANTITY.search(before.split(stated_as_forecast[0])[-1]):
        return
    if not any(c.key in FORECAST_FIGURES for c in found):
        out.problems.append(
            f"figure stated as the forecast is not the forecast: '{m.group(0).strip()}'"
        )


def _check_direction(
    sentence: str, m: re.Match[str], found: list[_Candidate], out: _Numbers
) -> None:
    """ "rise 0.42%" for a fact of -0.0042: the figure matches, its direction does not."""
    token = m["num"]
    position = sentence.find(token)
    direction = _direction_before(sentence, position) if position >= 0 else 0
    signed = [
        c
        for c in found
        if c.is_pct
        and abs(c.value) > 1e-12
        and c.key not in UNSIGNED_FACTS
        and not c.key.startswith("volatility")
    ]
    if direction and signed and all((c.value > 0) != (direction > 0) for c in signed):
        out.problems.append(
            f"direction contradicts the sign of {signed[0].key}: '{m.group(0).strip()}'"
        )


def _matches_excerpt(sentence: str, ctx: _Context) -> bool:
    """Most of the sentence's content words appear in one retrieved excerpt (it cites it)."""
    words = set(_WORD.findall(sentence.lower()))
    if len(words) < 4 or not ctx.excerpts:
        return False
    return any(
        len(words & set(_WORD.findall(e.lower()))) >= EXCERPT_OVERLAP * len(words)
        for e in ctx.excerpts
    )


def _names_a_fact(sentence: str, ctx: _Context) -> bool:
    """A concept or metric that is among the facts (the interval, a driver, RSI, ...)."""
    for pattern, keys in CONCEPTS:
        if keys & ctx.fact_keys and re.search(pattern, sentence, re.IGNORECASE):
            return True
    for _name, pattern, keys in METRICS:
        if keys & ctx.fact_keys and re.search(pattern, sentence, re.IGNORECASE):
            return True
    return False


def _rule_problems(sentence: str, ctx: _Context, cited: bool) -> list[str]:
    """Metrics, promises, unverifiable claims, horizon, echo and the forecast's direction."""
    problems: list[str] = []
    for name, pattern, keys in METRICS:
        named = re.search(pattern, sentence, re.IGNORECASE) and not (keys & ctx.fact_keys)
        if named and not re.search(pattern, ctx.text, re.IGNORECASE):
            problems.append(f"metric '{name}' is not among the facts")
    for label, pattern in PROMISES:
        problems += [f"{label}: '{m.group(0)}'" for m in re.finditer(pattern, sentence, re.I)]
    if not cited:  # a claim an excerpt makes is cited, not invented
        for label, pattern in UNVERIFIABLE:
            problems += [f"{label}: '{m.group(0)}'" for m in re.finditer(pattern, sentence, re.I)]
    problems += [
        f"horizon other than the next trading day: '{m.group(0)}'"
        for m in HORIZON.finditer(sentence)
    ]
    problems += [f"echoes the prompt: '{m.group(0)}'" for m in PROMPT_ECHO.finditer(sentence)]
    for m in _FORECAST_DIRECTION.finditer(sentence):
        said = 1 if m["pos"] else -1
        if ctx.predicted_sign and said != ctx.predicted_sign:
            problems.append(f"direction contradicts the forecast: '{m.group(0)}'")
    return problems


_SUPERLATIVE = re.compile(
    r"\b(?:most|largest|biggest|main|primary|strongest|greatest|top|dominant|chief|leading)\b",
    re.IGNORECASE,
)


def _names_feature(sentence: str, key: str, label: str) -> bool:
    if label and label.lower() in sentence.lower():
        return True
    return any(
        key in keys and re.search(pattern, sentence, re.IGNORECASE)
        for _name, pattern, keys in METRICS
    )


def _ranking_problems(sentence: str, ctx: _Context) -> list[str]:
    """ "The input that moved the forecast most: X" must name the largest contribution; n
    drivers called the largest must be the top n."""
    if not ctx.drivers or not _SUPERLATIVE.search(sentence):
        return []
    named = [
        i for i, (key, label) in enumerate(ctx.drivers) if _names_feature(sentence, key, label)
    ]
    if named and max(named) >= len(named):
        label = ctx.drivers[max(named)][1]
        return [f"calls '{label}' a largest driver; {ctx.drivers[0][1]} moved the forecast more"]
    return []


def _diagnose(sentence: str, ctx: _Context) -> tuple[list[str], _Numbers]:
    """Named reasons for a sentence that is no claim form (an invented figure, a metric that is
    not a fact, "the model's ability", another horizon): they say why, the form decides."""
    numbers = _Numbers()
    cleaned = _strip_names_and_dates(sentence, ctx, numbers)
    _check_numbers(sentence, cleaned, ctx, numbers)
    problems = numbers.problems + _rule_problems(sentence, ctx, cited=False)
    return problems + _ranking_problems(sentence, ctx), numbers


def check_sentence(sentence: str, ctx: _Context) -> tuple[SentenceVerdict, _Numbers]:
    """Supported: a citation of an excerpt, or a sequence of claim forms whose every slot is a
    fact (``claims.py``). Anything else fails, with the reasons the rules above can name."""
    if claims.cites_excerpt(sentence, ctx.excerpts):
        return SentenceVerdict(sentence, True, []), _Numbers(anchored=True)
    assert ctx.forms is not None
    parsed = claims.parse(sentence, ctx.forms)
    numbers = _Numbers(checked=parsed["figures"], anchored=parsed["complete"])
    if parsed["complete"]:
        numbers.states_prediction = parsed["core"] and not parsed["problems"]
        problems: list[str] = parsed["problems"]
    else:
        diagnosed, numbers = _diagnose(sentence, ctx)
        numbers.states_prediction = False
        problems = diagnosed + parsed["problems"]
    return SentenceVerdict(sentence, not problems, problems), numbers


def check(
    text: str, facts: list[Fact], context: Iterable[str] = (), *, require_prediction: bool = True
) -> GroundingResult:
    """Check every sentence; the text passes when all of them are supported."""
    sentences = split_sentences(text)
    if not sentences:
        return GroundingResult(False, ["empty text"], 0)
    ctx = _Context.build(facts, context)
    problems: list[str] = []
    verdicts: list[SentenceVerdict] = []
    checked, states_prediction = 0, False
    for i, sentence in enumerate(sentences, start=1):
        verdict, numbers = check_sentence(sentence, ctx)
        verdicts.append(verdict)
        checked += numbers.checked
        states_prediction |= numbers.states_prediction
        tag = f"sentence {i}: " if len(sentences) > 1 else ""
        problems += [tag + p for p in verdict.problems]
    if require_prediction and not states_prediction:
        # Text without a single figure of the forecast ("I'm ready to assist you") passes every
        # other rule vacuously; it explains nothing.
        problems.append("does not state the prediction (return, price, interval or sigma)")
    return GroundingResult(not problems, problems, checked, verdicts)
