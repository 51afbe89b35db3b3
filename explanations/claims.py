"""The closed set of claim forms a shown sentence may take, and their check against the facts.

A sentence is supported only when it parses, from its first word to its last, as a sequence of
the forms below joined by ";", "," or "and", and every slot of every form checks out: each
figure is the fact the form names (within the precision the text shows, copied with the
precision the prompt gave: two decimals, whole percent for the confidence), each direction word
agrees with the sign of that fact, the horizon is the next trading day, the symbol is the
prediction's, a driver named is one of the key drivers with its own value and contribution, and
a driver called the largest is the largest. Anything else (the model's abilities, history, market
commentary, causes of the uncertainty that are not facts, other horizons, a sentence cut
mid-figure) matches no form and fails, whatever its words: the check needs no list of bad
phrases to catch a claim it has never seen.

Forms (heads start a clause, modifiers extend the clause before them):
- forecast: "{SYM} is predicted/expected/forecast to rise|fall|move {fig}", "the model predicts
  a {fig} rise|fall (in the price of {SYM})", "the predicted (1-day) return is {fig}"; modifiers
  ", from {price} to {price}", the next-day horizon ("on the next trading day", "by the next
  close"), ", according to the normal-day|earnings-day model {version}",
  ", driven (mainly) by {driver}", ", with an 80% interval ...|a confidence of ...|an
  uncertainty (sigma) of ...".
- interval: "the 80% interval (of the return) runs from|spans {p10} to {p90}", with ", so the
  direction (itself) is uncertain" only when the interval straddles zero.
- confidence: "the model's confidence in the direction is {fig}"; sigma: "the uncertainty
  (sigma) is {fig}".
- drivers: "the input that moved the forecast most|the largest driver: {driver}", "another
  driver: {driver}", "the inputs that moved the model's output most: {driver}; {driver}", where
  {driver} is "{label} {value} (moves the forecast up|down by {fig})" of the facts.
- any numeric fact by its label: "{label} is {value}" ("the predicted price is $125.51").
- "Data as of {date}"; the earnings-day sentence (earnings facts only); the post-mortem's
  sentences (``review.py``: realised return, inside/outside the interval, the market's part,
  the earnings reaction, quarantined inputs).
A sentence that copies a retrieved excerpt (a run of at least 80% of its words, six or more,
found verbatim in one excerpt) is a citation and supported as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from explanations.facts import Fact

FIG = r"[+-]?\s?\d+(?:\.\d+)?\s?%"
PM_FIG = r"(?:\+/-|±|plus or minus)\s?\d+(?:\.\d+)?\s?%"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
PRICE = rf"\${_DIGITS}"
VALUE = rf"[+-]?\s?\$?{_DIGITS}(?:\s?%|\s(?:million|billion|thousand)\b)?"
DATE = r"\d{4}-\d{2}-\d{2}"
APPROX = r"(?:(?:about|around|roughly|approximately) )?"
UP = r"rise|gain|increase|climb|advance|go up|move up|edge up|tick up"
DOWN = r"fall|decline|decrease|drop|go down|move down|edge down|slip|dip|tick down"
UP_NOUN = r"rise|increase|gain|climb|advance|upward move"
DOWN_NOUN = r"fall|decrease|decline|drop|loss|dip|downward move"
# Not "tomorrow": after a Friday's data it is no trading day.
HORIZON_OK = (
    r"(?:(?:on|for|over|in) the next (?:trading )?(?:day|session)|(?:by|at) (?:the )?next "
    r"(?:close|trading day's close))"
)
PREDICT_VERB = r"(?:predicted|expected|forecast|forecasted|projected)"
MODEL_SUBJ = r"(?:the (?:normal-day |earnings-day )?model|the forecast|it)"
STRADDLE = (
    r"(?:so |thus |which means |meaning )?(?:the direction itself|even the direction|the "
    r"direction(?: of the move)?) is uncertain"
)
CONNECTOR = re.compile(r"\s*(?:[;,:]\s*(?:and\s+|while\s+|but\s+)?|\s+(?:and|while|but)\s+)")
END = re.compile(r"\s*[.!]?\s*$")
_FIGURE = re.compile(
    r"(?P<pm>\+/-|±|plus or minus)?\s?(?P<sign>[+-])?\s?(?P<dollar>\$)?"
    r"(?P<num>\d[\d,]*(?:\.\d+)?)\s?(?P<unit>%|million|billion|thousand)?",
    re.IGNORECASE,
)
_MULT = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
# Figures the prompt shows at whole percent; every other figure is shown with two decimals.
WHOLE_PERCENT = {"confidence", "interval_level"}
# Facts of the forecast itself: a text must state one of them.
CORE = {
    "predicted_return_1d",
    "predicted_price",
    "p10",
    "p50",
    "p90",
    "p10_price",
    "p90_price",
    "uncertainty_sigma",
    "confidence",
}
PREDICTION_KEYS = CORE | {"current_price", "interval_level", "p50_price"}


@dataclass
class Slots:
    """What one form's slots came to: problems, figures checked, whether it states the
    forecast."""

    problems: list[str] = field(default_factory=list)
    figures: int = 0
    core: bool = False

    def add(self, other: Slots) -> None:
        self.problems += other.problems
        self.figures += other.figures
        self.core |= other.core


class ClaimContext:
    """The facts, indexed for the forms: by key, the symbol, the drivers by rank, labels."""

    def __init__(self, facts: list[Fact]) -> None:
        self.by_key = {f.key: f for f in facts}
        symbol = self.by_key.get("symbol")
        self.symbol = str(symbol.value) if symbol else ""
        contributions = [
            (abs(float(f.value)), f.key.removeprefix("contribution_"))
            for f in facts
            if f.key.startswith("contribution_") and f.is_numeric
        ]
        self.drivers = [key for _, key in sorted(contributions, reverse=True)]
        self.driver_names = self._names(self.drivers)
        for f in facts:  # the driver's name as its contribution is labelled
            if f.key.startswith("contribution_") and f.label.startswith("contribution of "):
                name = f.label.removeprefix("contribution of ").lower()
                self.driver_names.setdefault(name, f.key.removeprefix("contribution_"))
        numeric = [f.key for f in facts if f.is_numeric and not f.key.startswith("contribution_")]
        self.label_names = self._names(numeric, aliases=False)
        self.earnings_day = bool(
            {"eps_estimate", "eps_actual", "announcement_date", "reaction_date"} & set(self.by_key)
        ) or (getattr(self.by_key.get("model_type"), "value", "") == "earnings_day")
        self.patterns = _compile(self)

    def _names(self, keys: list[str], *, aliases: bool = True) -> dict[str, str]:
        """Name in text (lower case) -> fact key: the fact's label, and for a driver also the
        label without its parenthesis ("RSI (14 days)" -> "RSI")."""
        names: dict[str, str] = {}
        for key in keys:
            fact = self.by_key.get(key)
            if fact is None:
                continue
            names.setdefault(fact.label.lower(), key)
            short = fact.label.split(" (")[0].strip().lower()
            if aliases and short:
                names.setdefault(short, key)
        return names

    def fact(self, key: str) -> Fact | None:
        return self.by_key.get(key)


def _alternation(names: list[str]) -> str:
    if not names:
        return r"(?!x)x"
    return "(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"


# ---- figures ------------------------------------------------------------------------------


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _shown(fact: Fact) -> str:
    v = float(fact.value)
    if fact.kind == "return":
        return f"{v * 100:+.2f}%"
    if fact.kind == "price":
        return f"${v:,.2f}"
    return f"{v:.2f}"


def _unit_fits(fig: re.Match[str], fact: Fact) -> bool:
    unit = (fig["unit"] or "").lower()
    if fact.kind == "return":
        return unit == "%" and not fig["dollar"]
    if fact.kind == "price":
        return bool(fig["dollar"]) and not unit
    return unit != "%" and not fig["dollar"]


def _value_fits(fig: re.Match[str], fact: Fact, direction: int, unsigned_ok: bool) -> bool:
    num = fig["num"].replace(",", "")
    decimals = _decimals(num)
    v = float(fact.value)
    need = 0 if fact.key in WHOLE_PERCENT or (fact.kind == "number" and v.is_integer()) else 2
    if decimals < need:
        return False  # "+2." of "+2.35%": a figure cut, or not copied as given
    mult = _MULT.get((fig["unit"] or "").lower(), 1.0)
    x = float(num) * mult
    tol = (0.5 * 10 ** (-decimals) + 1e-9) * mult
    target = v * 100.0 if fact.kind == "return" else v
    if abs(x - abs(target)) > tol:
        return False
    if fig["pm"] or unsigned_ok:
        return True
    sign = -1 if fig["sign"] == "-" else 1 if fig["sign"] == "+" else direction or 1
    return abs(target) <= tol or (target > 0) == (sign > 0)


def _contradicts(fig: re.Match[str], facts: list[Fact], direction: int) -> Fact | None:
    """The fact whose size the figure states but whose sign its sign or direction word
    contradicts ("fall 1.23%" of +1.23%)."""
    for fact in facts:
        if _unit_fits(fig, fact) and _value_fits(fig, fact, direction, unsigned_ok=True):
            return fact
    return None


def figure(
    ctx: ClaimContext,
    text: str | None,
    keys: tuple[str, ...],
    *,
    direction: int = 0,
    unsigned_ok: bool = False,
) -> Slots:
    """One figure of a form: it must be one of the facts ``keys`` (unit, precision, sign)."""
    out = Slots()
    if text is None:
        return out
    out.figures = 1
    stated = text.strip()
    fig = _FIGURE.fullmatch(stated)
    facts = [f for k in keys if (f := ctx.fact(k)) is not None and f.is_numeric]
    if not facts:
        return Slots([f"'{stated}' is stated as {keys[0]}, which is not a fact"], 1)
    if fig and any(
        _unit_fits(fig, f) and _value_fits(fig, f, direction, unsigned_ok) for f in facts
    ):
        out.core = any(f.key in CORE for f in facts)
        return out
    said = {1: "rise ", -1: "fall "}.get(direction, "")
    if fig and (wrong := _contradicts(fig, facts, direction)):
        out.problems.append(
            f"direction contradicts the sign of {wrong.label} ({_shown(wrong)}): '{said}{stated}'"
        )
    else:
        shown = ", ".join(f"{f.label} {_shown(f)}" for f in facts)
        out.problems.append(f"'{said}{stated}' is not the fact it states ({shown})")
    return out


def _direction(m: re.Match[str]) -> int:
    groups = m.groupdict()
    return 1 if groups.get("up") else -1 if groups.get("down") else 0


# ---- the forms ------------------------------------------------------------------------------

Verify = Callable[[re.Match[str], ClaimContext], Slots]


@dataclass(frozen=True)
class Form:
    name: str
    pattern: str  # format fields: {sym} {subj} {driver} {drivers} {label}
    verify: Verify
    after: frozenset[str] = frozenset()  # a modifier: the heads it may extend; empty = a head

    @property
    def is_head(self) -> bool:
        return not self.after


def _forecast(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("predicted_return_1d",), direction=_direction(m))


def _prices(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = figure(ctx, m["start"], ("current_price",))
    out.add(figure(ctx, m["end"], ("predicted_price",)))
    return out


def _nothing(_m: re.Match[str], _ctx: ClaimContext) -> Slots:
    return Slots()


def _model(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = Slots()
    kind = m["kind"].lower().replace("-day", "_day")
    model_type = ctx.fact("model_type")
    if model_type is None or str(model_type.value) != kind:
        out.problems.append(f"the model is not the {m['kind']} model")
    version = ctx.fact("model_version")
    if m["version"] and (version is None or str(version.value) != m["version"]):
        out.problems.append(f"model version '{m['version']}' is not the model's")
    return out


def _interval(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = figure(ctx, m["level"], ("interval_level",))
    out.add(figure(ctx, m["lo"], ("p10", "p10_price")))
    out.add(figure(ctx, m["hi"], ("p90", "p90_price")))
    return out


def _straddle(_m: re.Match[str], ctx: ClaimContext) -> Slots:
    p10, p90 = ctx.fact("p10"), ctx.fact("p90")
    if p10 is None or p90 is None or not float(p10.value) < 0 < float(p90.value):
        return Slots(["the interval does not include both a rise and a fall"])
    return Slots()


def _confidence(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("confidence",))


def _sigma(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("uncertainty_sigma",), unsigned_ok=True)


def _driver_key(name: str, ctx: ClaimContext) -> str | None:
    return ctx.driver_names.get(name.strip().lower())


def _one_driver(text: str, ctx: ClaimContext) -> tuple[str | None, Slots]:
    """``{label} {value} (moves the forecast up|down by {fig})``: each part is the driver's."""
    m = ctx.patterns.driver.fullmatch(text.strip())
    if m is None:
        return None, Slots([f"'{text.strip()}' is not a key driver as the facts give it"])
    key = _driver_key(m["label"], ctx)
    if key is None:
        return None, Slots([f"'{m['label']}' is not a key driver"])
    out = Slots()
    if m["value"]:
        out.add(figure(ctx, m["value"], (key,)))
    if m["contrib"]:
        direction = 1 if m["dir"].lower() == "up" else -1
        out.add(figure(ctx, m["contrib"], (f"contribution_{key}",), direction=direction))
    out.core = False
    return key, out


def _drivers(text: str, ctx: ClaimContext, *, largest: bool) -> Slots:
    """A list of drivers; called the largest, they must be the top ones."""
    out = Slots()
    keys = []
    for part in ctx.patterns.driver_split.split(text.strip()):
        if part.strip():
            key, slots = _one_driver(re.sub(r"^(?:its|the) ", "", part.strip(), flags=re.I), ctx)
            out.add(slots)
            keys.append(key)
    top = ctx.drivers[: len(keys)]
    if largest and all(keys) and set(keys) != set(top):
        out.problems.append(f"the drivers called the largest are not the top {len(keys)}")
    return out


def _driver_head(m: re.Match[str], ctx: ClaimContext) -> Slots:
    largest = bool(re.search(r"most|largest|main|biggest|top|strongest", m["intro"], re.I))
    return _drivers(m["list"], ctx, largest=largest)


def _driven_by(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return _drivers(m["list"], ctx, largest=bool(m["most"]))


def _labelled(m: re.Match[str], ctx: ClaimContext) -> Slots:
    key = ctx.label_names.get(m["label"].strip().lower())
    return figure(ctx, m["value"], (key,) if key else ("unknown",), unsigned_ok=False)


def _date(m: re.Match[str], ctx: ClaimContext) -> Slots:
    dates = {str(f.value) for f in ctx.by_key.values() if f.kind == "date"}
    return Slots() if m["date"] in dates else Slots([f"date '{m['date']}' is not a fact date"])


def _earnings(_m: re.Match[str], ctx: ClaimContext) -> Slots:
    return Slots() if ctx.earnings_day else Slots(["the next trading day is no earnings day"])


def _review_move(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = _date(m, ctx)
    out.add(figure(ctx, m["fig"], ("predicted_return_1d",)))
    return out


def _realised(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("realised_return",))


def _inside(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = _interval(m, ctx)
    realised, p10, p90 = ctx.fact("realised_return"), ctx.fact("p10"), ctx.fact("p90")
    if realised is None or p10 is None or p90 is None:
        out.problems.append("no realised return to place in the interval")
        return out
    inside = float(p10.value) <= float(realised.value) <= float(p90.value)
    if (m["where"].lower() == "inside") != inside:
        out.problems.append(f"the realised return is not {m['where']} the interval")
    return out


def _market(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("market_return",))


def _beta_part(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = figure(ctx, m["beta"], ("market_beta",))
    out.add(figure(ctx, m["fig"], ("market_part",)))
    return out


def _residual(m: re.Match[str], ctx: ClaimContext) -> Slots:
    return figure(ctx, m["fig"], ("residual_return",))


def _earnings_reaction(m: re.Match[str], ctx: ClaimContext) -> Slots:
    out = _date(m, ctx)
    out.add(figure(ctx, m["fig"], ("eps_surprise_pct",)))
    return out


def _flagged(_m: re.Match[str], ctx: ClaimContext) -> Slots:
    return Slots() if ctx.fact("inputs_flagged") else Slots(["no inputs were flagged unusual"])


FORECASTS = frozenset({"forecast", "model_predicts", "predicted_return"})
CORE_HEADS = FORECASTS | {"interval", "confidence", "sigma"}
_SUBJ = (
    r"(?:the (?:stock|shares|share price|price|return)(?: of (?:the )?{sym}(?: stock| shares)?)?|"
    r"(?:the )?{sym}(?:'s)?(?: (?:stock|shares|share price|price|next-day return|1-day return|"
    r"return))?|it|its (?:price|return|share price))"
)
_LEVEL = r"(?:(?P<level>\d+(?:\.\d+)?\s?%) )?"
_INTERVAL_NOUN = r"(?:prediction |forecast )?(?:interval|range)"
_OF_RETURN = r"(?: (?:of|for) (?:the )?(?:next-day |1-day )?return| of {sym})?"
_BOUNDS = rf"(?P<lo>{FIG}|{PRICE}) (?:to|and|through) (?P<hi>{FIG}|{PRICE})"
_MOVE = rf"(?:(?P<up>{UP})|(?P<down>{DOWN})|move)"

FORMS: list[Form] = [
    Form(
        "forecast",
        rf"{_SUBJ} (?:is|are) {PREDICT_VERB} to {_MOVE} (?:by )?{APPROX}(?P<fig>{FIG})",
        _forecast,
    ),
    Form(
        "model_predicts",
        rf"{MODEL_SUBJ} (?:predicts|expects|forecasts|projects) (?:that )?{_SUBJ} (?:is likely )?"
        rf"to {_MOVE} (?:by )?{APPROX}(?P<fig>{FIG})",
        _forecast,
    ),
    Form(
        "model_predicts",
        rf"{MODEL_SUBJ} (?:predicts|expects|forecasts|projects|calls for) an? {APPROX}"
        rf"(?P<fig>{FIG}) (?:(?P<up>{UP_NOUN})|(?P<down>{DOWN_NOUN})|return|move|change)"
        rf"(?: (?:in|of|for) {_SUBJ})?",
        _forecast,
    ),
    Form(
        "predicted_return",
        rf"(?:the |{{sym}}'s |its )(?:predicted|forecast|expected) (?:(?:next-day|1-day|one-day) )?"
        rf"(?:return|move|change)(?: (?:of|for) {_SUBJ})? (?:is|of) {APPROX}(?P<fig>{FIG})",
        _forecast,
    ),
    Form(
        "prices",
        rf",? from (?P<start>{PRICE}) to (?P<end>{PRICE}),?",
        _prices,
        FORECASTS,
    ),
    Form("horizon", rf",? {HORIZON_OK},?", _nothing, FORECASTS),
    Form(
        "model",
        r",? according to the (?P<kind>normal-day|earnings-day) model"
        r"(?: (?P<version>[\w-]+(?:\.[\w-]+)*))?",
        _model,
        FORECASTS,
    ),
    Form(
        "driven_by",
        r",? (?:driven|moved) (?:(?P<most>mainly|mostly|most|largely|chiefly) )?by "
        r"(?P<list>{drivers})",
        _driven_by,
        FORECASTS,
    ),
    Form(
        "interval",
        rf"(?:the |its |{{sym}}'s |the model's ){_LEVEL}{_INTERVAL_NOUN}{_OF_RETURN} (?:runs from|"
        rf"spans|goes from|ranges from|extends from|is from|is|runs|of|from) {_BOUNDS}",
        _interval,
    ),
    Form(
        "with_interval",
        rf",? with an? {_LEVEL}{_INTERVAL_NOUN}(?: of| from| between)? {_BOUNDS}",
        _interval,
        CORE_HEADS,
    ),
    Form("straddle", rf",? {STRADDLE}", _straddle, frozenset({"interval", "with_interval"})),
    Form("straddle", STRADDLE, _straddle),
    Form(
        "confidence",
        rf"(?:the model's |its |the ){{0,1}}confidence(?: in the direction| in the forecast| of "
        rf"the forecast| level)? is {APPROX}(?P<fig>{FIG})",
        _confidence,
    ),
    Form(
        "with_confidence",
        rf",? with (?:a )?confidence(?: level)?(?: in the direction)? of (?P<fig>{FIG})",
        _confidence,
        CORE_HEADS,
    ),
    Form(
        "sigma",
        rf"(?:the |its )?(?:uncertainty(?: \(sigma\))?|sigma|standard deviation)(?: of the "
        rf"(?:next-day )?return| of the forecast)? is (?P<fig>{FIG}|{PM_FIG})",
        _sigma,
    ),
    Form(
        "with_sigma",
        rf",? with an? (?:uncertainty(?: \(sigma\))?|sigma|standard deviation) of "
        rf"(?P<fig>{FIG}|{PM_FIG})",
        _sigma,
        CORE_HEADS,
    ),
    Form(
        "driver",
        r"(?P<intro>the input that moved the forecast most|the (?:largest|main|biggest|top|"
        r"strongest) driver(?: of the forecast)?|the key driver|a key driver|another (?:key )?"
        r"driver|one (?:key )?driver|another input|the (?:inputs|drivers|key drivers) that moved "
        r"the (?:model's output|forecast) most)(?::| is| was| are| were)\s?(?P<list>{drivers})",
        _driver_head,
    ),
    Form(
        "labelled",
        r"(?:the |its |{sym}'s )?(?P<label>{label})(?: is| was| stands at| of| at|:|,)?\s?"
        rf"(?P<value>{VALUE})",
        _labelled,
    ),
    Form("date", rf"(?:the )?data (?:is |are )?as of (?P<date>{DATE})", _date),
    Form(
        "earnings",
        r"the next trading day is an earnings reaction day(?:, when moves are typically much "
        r"larger than on ordinary days)?",
        _earnings,
    ),
    Form(
        "review_move",
        rf"for (?P<date>{DATE}),? the model predicted {_SUBJ} to move (?P<fig>{FIG})",
        _review_move,
    ),
    Form("realised", rf"the realised return was (?P<fig>{FIG})", _realised),
    Form(
        "inside",
        rf"that is (?P<where>inside|outside) the {_LEVEL}interval of {_BOUNDS}",
        _inside,
    ),
    Form("market", rf"the S&P 500 returned (?P<fig>{FIG}) that day", _market),
    Form(
        "beta_part",
        rf"with a beta of (?P<beta>{VALUE}),? the market explains (?P<fig>{FIG}) of the move",
        _beta_part,
    ),
    Form("residual", rf"leaving (?P<fig>{FIG}) specific to {_SUBJ}", _residual),
    Form(
        "earnings_reaction",
        rf"it was an earnings reaction day \(announcement (?P<date>{DATE})(?:, EPS surprise "
        rf"(?P<fig>{FIG}))?\)",
        _earnings_reaction,
    ),
    Form(
        "flagged",
        r"bars of {sym} were quarantined as unusual before the prediction",
        _flagged,
    ),
]


@dataclass
class _Patterns:
    forms: list[tuple[Form, re.Pattern[str]]]
    driver: re.Pattern[str]
    driver_split: re.Pattern[str]


def _fill(pattern: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        pattern = pattern.replace("{" + name + "}", value)
    return pattern


def _compile(ctx: ClaimContext) -> _Patterns:
    sym = f"(?-i:{re.escape(ctx.symbol)})" if ctx.symbol else r"(?!x)x"
    names = _alternation(list(ctx.driver_names))
    one = (
        rf"(?:(?:its|the) )?{names}(?:,? (?:of |at |is )?{VALUE})?(?: \(moves the forecast "
        rf"(?:up|down) by {FIG}\))?"
    )
    fields = {
        "sym": sym,
        "drivers": rf"{one}(?:(?:;|,|,? and) {one})*",
        "label": _alternation(list(ctx.label_names)),
    }
    forms = [(form, re.compile(_fill(form.pattern, fields), re.I)) for form in FORMS]
    driver = re.compile(
        rf"(?P<label>{names})(?:,? (?:of |at |is )?(?P<value>{VALUE}))?(?: \(moves the forecast "
        rf"(?P<dir>up|down) by (?P<contrib>{FIG})\))?",
        re.I,
    )
    split = re.compile(r"\s*(?:;|,? and|,)\s+(?=(?:(?:its|the) )?" + names + ")", re.I)
    return _Patterns(forms, driver, split)


# ---- parsing ------------------------------------------------------------------------------


@dataclass
class Parse:
    complete: bool
    slots: Slots
    reached: int  # how far the longest attempt got (for the problem message)


def _options(s: str, pos: int, state: str, ctx: ClaimContext) -> list[tuple[int, str, Slots]]:
    """The pieces that can follow at ``pos``: (end, state after it, its slots). ``state`` is
    "" at a clause's start, else "head>last modifier"."""
    head, _, mod = state.partition(">")
    options: list[tuple[int, str, Slots]] = []
    if head and END.fullmatch(s, pos):
        options.append((len(s), "<end>", Slots()))
    for form, pattern in ctx.patterns.forms:
        if form.is_head == bool(head) or (head and not ({head, mod} & form.after)):
            continue
        m = pattern.match(s, pos)
        if m and m.end() > pos:
            after = form.name if form.is_head else f"{head}>{form.name}"
            options.append((m.end(), after, form.verify(m, ctx)))
    if head and (c := CONNECTOR.match(s, pos)) and c.end() > pos:
        options.append((c.end(), "", Slots()))
    return options


def _search(s: str, ctx: ClaimContext) -> Parse:
    """The complete parse with the fewest problems, by depth-first search over the forms."""
    memo: dict[tuple[int, str], Slots | None] = {}
    reached = [0]

    def go(pos: int, state: str) -> Slots | None:
        if (pos, state) in memo:
            return memo[(pos, state)]
        reached[0] = max(reached[0], pos)
        best: Slots | None = None
        for end, after, slots in _options(s, pos, state, ctx):
            rest = Slots() if after == "<end>" else go(end, after)
            if rest is None:
                continue
            total = Slots()
            total.add(slots)
            total.add(rest)
            if best is None or len(total.problems) < len(best.problems):
                best = total
        memo[(pos, state)] = best
        return best

    found = go(0, "")
    return Parse(found is not None, found or Slots(), reached[0])


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*", text.lower())


LEAD_IN = re.compile(
    r"^(?:according to (?:the |our )?(?:playbooks?|excerpts?|sources?|context)|as (?:the "
    r"|our )?(?:playbooks?|excerpts?|sources?) (?:says?|notes?|puts? it)|the (?:playbooks?|"
    r"excerpts?) (?:says?|notes?)(?: that)?),?\s*",
    re.IGNORECASE,
)


def cites_excerpt(sentence: str, excerpts: list[str]) -> bool:
    """The sentence, after an optional lead-in ("According to the playbook,"), copies one
    excerpt: a run of at least 90% of its words (six or more) found there in order."""
    words = _words(LEAD_IN.sub("", normalise(sentence)))
    if len(words) < 6:
        return False
    need = max(6, -(-len(words) * 9 // 10))
    for excerpt in excerpts:
        joined = " " + " ".join(_words(excerpt)) + " "
        for start in range(len(words) - need + 1):
            if " " + " ".join(words[start : start + need]) + " " in joined:
                return True
    return False


def normalise(sentence: str) -> str:
    text = sentence.replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()


def parse(sentence: str, ctx: ClaimContext) -> dict[str, Any]:
    """``complete``: the sentence is a sequence of forms; ``problems`` of its slots, or where
    no form fits; ``figures`` checked; ``core``: it states a figure of the forecast."""
    s = normalise(sentence)
    result = _search(s, ctx)
    if result.complete:
        return {
            "complete": True,
            "problems": result.slots.problems,
            "figures": result.slots.figures,
            "core": result.slots.core,
        }
    rest = s[result.reached :].strip() or s
    shown = rest if len(rest) <= 80 else rest[:77] + "..."
    return {
        "complete": False,
        "problems": [f"not a claim the facts support: '{shown}'"],
        "figures": 0,
        "core": False,
    }
