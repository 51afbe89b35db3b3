"""The grounding check: generated text may only state numbers and metrics that are in the facts
it was given, and it may not promise outcomes or recommend trades.

Numbers. Every number in the text must match a fact within the rounding the text shows: "1.2%"
matches 0.0123 (1.23 rounds to 1.2), "+1.23%" needs a positive fact, "-0.5%" a negative one, an
unsigned number matches either sign ("fell 0.50%" states -0.005 as 0.50), "$152.4" a price of
152.40, "1.5 billion" or "$1.5B" a dollar volume of 1.52e9, "25 bps" 0.0025. Numbers that are
part of a metric's name ("20-day", "RSI 14", "p90", "S&P 500", "10-K") are not claims and are
removed first. A number that appears verbatim in one of the retrieved excerpts the model was
shown is accepted (it is cited, not invented), as are bare counts from 1 to 5 ("three drivers").

Metrics. A metric the text names (RSI, P/E, EPS, margins, ...) must be among the facts or in the
excerpts; a model that talks about a P/E ratio nobody gave it is making it up.

Promises. "will rise", "guaranteed", "definitely", "risk-free", buy/sell recommendations fail.

Horizon. The forecast is for the next trading day; "over the next 5 days" is not a fact given.
Echo. Copied prompt instructions or headings ("in 2-3 sentences", "PREDICTION DATA") fail.

Substance. The text must state at least one figure of the forecast itself (return, price,
interval bound, sigma or confidence); a reply with no numbers would otherwise pass vacuously.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

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
HORIZON = re.compile(
    r"\b(?:in|over|within|for) (?:the )?(?:next |coming )?(?:\d+(?:\s?-\s?\d+)?|few|several|"
    r"two|three|four|five) (?:trading )?(?:days|weeks|months|years)\b",
    re.IGNORECASE,
)
# Small models sometimes copy the prompt's instructions or headings into the answer.
PROMPT_ECHO = re.compile(
    r"in 2-3 (?:plain )?sentences|PREDICTION DATA|RETRIEVED CONTEXT|KEY DRIVERS \(from|"
    r"^Premise:",
    re.IGNORECASE | re.MULTILINE,
)

PROMISES: list[tuple[str, str]] = [
    (
        "promised direction",
        r"\bwill\s+(?:certainly\s+|surely\s+|definitely\s+)?(?:rise|fall|increase|decrease|"
        r"go up|go down|climb|drop|gain|jump|surge|soar|rally|plunge|decline|reach|hit|"
        r"outperform|underperform|double|grow)\b",
    ),
    ("guarantee", r"\bguarantee[sd]?\b|\bassured\b"),
    (
        "certainty",
        r"\bdefinitely\b|\bcertainly\b|\bfor sure\b|\bno doubt\b|\bwithout doubt\b|"
        r"\bsure thing\b|\bcan(?:'t|not) lose\b|\brisk[- ]free\b|\bsafe bet\b",
    ),
    (
        "recommendation",
        r"\b(?:strong\s+)?(?:buy|sell)\b(?![- ]side)|\bshould (?:buy|sell|invest|"
        r"hold)\b|\baccumulate\b|\boverweight\b|\bunderweight\b|\bgo long\b|"
        r"\bgo short\b|\btake profits?\b",
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


@dataclass
class GroundingResult:
    passed: bool
    problems: list[str] = field(default_factory=list)
    numbers_checked: int = 0

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "problems": self.problems,
            "numbers_checked": self.numbers_checked,
        }


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _candidates(facts: Iterable[Fact]) -> list[tuple[float, bool]]:
    """(value in the units text uses, is a percentage) for each numeric fact."""
    out: list[tuple[float, bool]] = []
    for fact in facts:
        if not fact.is_numeric:
            continue
        v = float(fact.value)
        if fact.kind == "return":
            out.append((v * 100.0, True))
            out.append((v, False))
        else:
            out.append((v, False))
    return out


def _matches(x: float, tol: float, sign: str | None, candidates: list[float]) -> bool:
    for c in candidates:
        if sign == "-" and c > tol:
            continue
        if sign == "+" and c < -tol:
            continue
        target = c if sign else abs(c)
        if abs(abs(x) - abs(target)) <= tol:
            return True
    return False


def _context_has(token: str, context: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", context) is not None


def check(
    text: str, facts: list[Fact], context: Iterable[str] = (), *, require_prediction: bool = True
) -> GroundingResult:
    problems: list[str] = []
    context_text = "\n".join(context)
    cleaned = text.replace("\u2212", "-").replace("\u2013", "-").replace("\u2009", " ")
    if not cleaned.strip():
        return GroundingResult(False, ["empty text"], 0)

    # Names given as facts (symbol, model version "v2.1") are not numeric claims.
    for f in facts:
        if f.kind == "text" and str(f.value).strip():
            cleaned = cleaned.replace(str(f.value), " ")
    fact_dates = {str(f.value) for f in facts if f.kind == "date"}
    fact_years = {d[:4] for d in fact_dates}

    def _date(m: re.Match) -> str:
        if m.group(0) not in fact_dates and m.group(0) not in context_text:
            problems.append(f"date '{m.group(0)}' matches no fact")
        return " "

    cleaned = _DATE.sub(_date, cleaned)
    cleaned = _LABELS.sub(" ", cleaned)

    def _year(m: re.Match) -> str:
        if m.group(0) not in fact_years and not _context_has(m.group(0), context_text):
            problems.append(f"year '{m.group(0)}' matches no fact")
        return " "

    cleaned = _YEAR.sub(_year, cleaned)

    pct_values = [c for c, is_pct in _candidates(facts) if is_pct]
    plain_values = [c for c, _ in _candidates(facts)]
    core = [f for f in facts if f.key in CORE_FACTS]
    core_pct = [c for c, is_pct in _candidates(core) if is_pct]
    core_plain = [c for c, _ in _candidates(core)]
    states_prediction = False
    checked = 0
    for m in _NUMBER.finditer(cleaned):
        num, sign, unit = m["num"], m["sign"], (m["unit"] or "").lower()
        checked += 1
        x = float(num.replace(",", ""))
        tol = 0.5 * 10 ** (-_decimals(num)) + 1e-9
        if unit in ("bps", "basis point", "basis points"):
            x, tol = x / 100.0, tol / 100.0
            unit = "%"
        if unit.startswith("percent") or unit in ("%", "pp"):
            ok = _matches(x, tol, sign, pct_values)
            states_prediction |= ok and _matches(x, tol, sign, core_pct)
        else:
            mult = _MULTIPLIERS.get(unit, 1.0)
            ok = _matches(x * mult, tol * mult, sign, plain_values)
            states_prediction |= ok and _matches(x * mult, tol * mult, sign, core_plain)
            if not ok and mult == 1.0 and not m["dollar"]:
                # "rose 1.23" without the % sign still names the percentage.
                ok = _matches(x, tol, sign, pct_values)
                states_prediction |= ok and _matches(x, tol, sign, core_pct)
        if not ok and _context_has(num, context_text):
            ok = True
        if not ok and not sign and not unit and not m["dollar"] and "." not in num and x <= 5:
            ok = True  # a bare count ("three drivers" written as 3)
        if not ok:
            problems.append(f"number '{m.group(0).strip()}' matches no fact")

    fact_keys = {f.key for f in facts}
    for name, pattern, keys in METRICS:
        if re.search(pattern, text, re.IGNORECASE) and not (keys & fact_keys):
            if not re.search(pattern, context_text, re.IGNORECASE):
                problems.append(f"metric '{name}' is not among the facts")

    for label, pattern in PROMISES:
        for m in re.finditer(pattern, text, re.IGNORECASE):
            problems.append(f"{label}: '{m.group(0)}'")

    for m in HORIZON.finditer(text):
        problems.append(f"horizon other than the next trading day: '{m.group(0)}'")
    for m in PROMPT_ECHO.finditer(text):
        problems.append(f"echoes the prompt: '{m.group(0)}'")

    if require_prediction and not states_prediction:
        # Text without a single figure of the forecast ("I'm ready to assist you") passes every
        # other rule vacuously; it explains nothing.
        problems.append("does not state the prediction (return, price, interval or sigma)")

    return GroundingResult(not problems, problems, checked)
