"""Domain layer: the DSMB charter, a versioned TOML file loaded with a data cut (docs/charter.md).

:func:`parse_charter` turns the file's text into a frozen :class:`Charter` or raises :class:`CharterError`
listing every problem as ``<source>: <table.field>: <reason> (got <value>)``; nothing of a charter with a
problem is used. The charter states the primary endpoint and its design (hazard ratio, allocation,
planned events, planned looks), the efficacy boundary's alpha spending, an optional non-binding futility
rule and the safety rules that the DSMB reviews at every look.

:func:`safety_events` and :func:`evaluate_safety_rules` count a cut's events against the safety rules.
Pure: no DuckDB, no Streamlit.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.adverse_events import study_day
from dashboard.domain.checks import check_group_col, require_columns
from dashboard.domain.endpoints import ENDPOINTS
from dashboard.errors import DashboardError

# Time-to-event endpoints a group-sequential design can be built on (not competing risks).
CHARTER_ENDPOINTS: tuple[str, ...] = tuple(key for key, spec in ENDPOINTS.items() if not spec.competing)
SPENDING_FUNCTIONS: tuple[str, ...] = ("obf", "pocock", "hsd")
FUTILITY_RULES: tuple[str, ...] = ("beta_spending", "conditional_power")
SAFETY_EVENTS: tuple[str, ...] = ("death", "serious_adverse_event", "adverse_event", "infusion_reaction")
SCOPES: tuple[str, ...] = ("each_arm", "pooled")
GAMMA_RANGE = (-10.0, 10.0)

# Every table and key a charter may hold; anything else is refused (a typo must not be silently ignored).
KEYS: dict[str, tuple[str, ...]] = {
    "": ("charter", "primary", "efficacy", "futility", "safety_rules"),
    "charter": ("version", "title", "approved_on"),
    "primary": ("endpoint", "design_hazard_ratio", "allocation_ratio", "planned_events", "information_fractions"),
    "efficacy": ("sides", "alpha", "spending", "gamma"),
    "futility": ("rule", "beta", "spending", "gamma", "threshold", "binding"),
    "safety_rules": ("id", "description", "event", "threshold", "scope", "within_days_of_infusion", "min_grade",
                     "action"),
}


class CharterError(DashboardError, ValueError):
    """A charter that cannot be used; ``problems`` lists every problem found, the message one per line."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Futility:
    """The futility rule, always non-binding: crossing it lets the DSMB consider stopping, never obliges it.

    ``rule`` "beta_spending": a boundary spending ``beta`` (type II error) by ``spending`` (``gamma`` for
    "hsd"); "conditional_power": futility when the conditional power under the design hazard ratio is below
    ``threshold``."""

    rule: str
    beta: float | None = None
    spending: str | None = None
    gamma: float | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class SafetyRule:
    """Met when the count of qualifying ``event``s reaches ``threshold``: in any one arm (``scope``
    "each_arm", "in either arm") or over all patients ("pooled"). ``within_days_of_infusion`` N counts only
    events 0 to N days after the patient's last infusion before them; ``min_grade`` only events of that CTCAE
    grade or worse (adverse-event kinds only). Deaths count once per patient."""

    id: str
    description: str
    event: str
    threshold: int
    scope: str
    within_days_of_infusion: int | None
    min_grade: int | None
    action: str


@dataclass(frozen=True)
class Charter:
    version: str
    title: str
    approved_on: date | None
    endpoint: str
    design_hazard_ratio: float
    allocation_ratio: float  # active : control, e.g. 2.5 for 5:2
    planned_events: int
    information_fractions: tuple[float, ...]  # planned looks, strictly increasing, the last 1
    sides: int
    alpha: float
    spending: str
    gamma: float | None
    futility: Futility | None
    safety_rules: tuple[SafetyRule, ...]
    text: str  # the TOML as loaded
    sha256: str  # of ``text`` (UTF-8)

    @property
    def planned_looks_events(self) -> tuple[int, ...]:
        """The number of events at each planned look: round(fraction x planned events)."""
        return tuple(round(fraction * self.planned_events) for fraction in self.information_fractions)


def _shown(value: Any) -> str:
    """``value`` written as in TOML, for "(got ...)"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table {" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if not isinstance(value, (int, float)) else f"{value}"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


class _Reader:
    """Reads one table of the parsed TOML, collecting every problem instead of stopping at the first."""

    def __init__(self, source: str, problems: list[str], where: str, table: Any, kind: str):
        self.source, self.problems, self.where = source, problems, where
        self.table = table if isinstance(table, dict) else {}
        allowed = KEYS[kind]
        for key, value in self.table.items():
            if key not in allowed:
                self.problem(key, f"unknown key; allowed keys: {', '.join(allowed)}", value)

    def problem(self, key: str, reason: str, value: Any) -> None:
        field = f"{self.where}.{key}" if self.where else key
        self.problems.append(f"{self.source}: {field}: {reason} (got {_shown(value)})")

    def has(self, key: str) -> bool:
        return key in self.table

    def value(self, key: str, check: Callable[[Any], str | None], *, required: bool = True, default: Any = None) -> Any:
        """The value of ``key`` if ``check`` (returning the reason it is wrong, or None) accepts it, else
        ``default`` after recording the problem."""
        if key not in self.table:
            if required:
                self.problem(key, "required", None)
            return default
        value = self.table[key]
        reason = check(value)
        if reason:
            self.problem(key, reason, value)
            return default
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be non-empty text"


def _one_of(allowed: Sequence[str]) -> Callable[[Any], str | None]:
    return lambda value: None if value in allowed else f"must be one of {_listed(allowed)}"


def _between(lo: float, hi: float, *, closed: bool = False) -> Callable[[Any], str | None]:
    """A number in (lo, hi), or [lo, hi] when ``closed``."""
    def check(value: Any) -> str | None:
        if not _is_number(value):
            return "must be a number"
        inside = lo <= value <= hi if closed else lo < value < hi
        return None if inside else f"must be between {lo:g} and {hi:g}{' inclusive' if closed else ''}"
    return check


def _whole(lo: int, hi: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be a whole number"
        if value < lo or (hi is not None and value > hi):
            return f"must be between {lo} and {hi}" if hi is not None else f"must be at least {lo}"
        return None
    return check


def _hazard_ratio(value: Any) -> str | None:
    if not _is_number(value):
        return "must be a number"
    return None if value > 0 and value != 1 else "must be above 0 and not 1 (a design with no effect to detect)"


def _positive(value: Any) -> str | None:
    if not _is_number(value):
        return "must be a number"
    return None if value > 0 else "must be above 0"


def _date(value: Any) -> str | None:
    ok = isinstance(value, date) and not hasattr(value, "hour")
    return None if ok else "must be a TOML date such as 2024-02-20 (unquoted)"


def _fractions(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a list of at least one look, e.g. [0.5, 0.75, 1.0]"
    if not all(_is_number(v) for v in value):
        return "must hold numbers only"
    if not all(0 < v <= 1 for v in value):
        return "every fraction must be above 0 and at most 1"
    if any(b <= a for a, b in zip(value, value[1:])):
        return "must be strictly increasing"
    if value[-1] != 1:
        return "the last look must be at 1 (the final analysis)"
    return None


def _gamma(reader: _Reader, spending: str | None) -> float | None:
    """The Hwang-Shih-DeCani parameter: required for "hsd", refused otherwise."""
    if spending == "hsd":
        value = reader.value("gamma", _between(*GAMMA_RANGE, closed=True))
        return None if value is None else float(value)
    if reader.has("gamma"):
        reader.problem("gamma", 'only for spending = "hsd"', reader.table["gamma"])
    return None


def _futility(source: str, problems: list[str], table: Any) -> Futility | None:
    reader = _Reader(source, problems, "futility", table, "futility")
    binding = reader.value("binding", lambda v: None if isinstance(v, bool) else "must be true or false",
                           required=False, default=False)
    if binding is True:
        reader.problem("binding", "the dashboard computes non-binding futility only (a binding rule would change "
                                  "the efficacy boundary); set binding = false", True)
    rule = reader.value("rule", _one_of(FUTILITY_RULES))
    if rule == "beta_spending":
        beta = reader.value("beta", _between(0, 0.5))
        spending = reader.value("spending", _one_of(SPENDING_FUNCTIONS))
        gamma = _gamma(reader, spending)
        if reader.has("threshold"):
            reader.problem("threshold", 'only for rule = "conditional_power"', reader.table["threshold"])
        return Futility(rule, None if beta is None else float(beta), spending, gamma, None)
    if rule == "conditional_power":
        threshold = reader.value("threshold", _between(0, 1))
        for key in ("beta", "spending", "gamma"):
            if reader.has(key):
                reader.problem(key, 'only for rule = "beta_spending"', reader.table[key])
        return Futility(rule, threshold=None if threshold is None else float(threshold))
    return None


def _safety_rules(source: str, problems: list[str], rules: Any) -> tuple[SafetyRule, ...]:
    if rules is None:
        return ()
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        problems.append(f"{source}: safety_rules: must be an array of tables, [[safety_rules]] (got {_shown(rules)})")
        return ()
    out, seen = [], set()
    for position, table in enumerate(rules, start=1):
        reader = _Reader(source, problems, f"safety_rules[{position}]", table, "safety_rules")
        rule_id = reader.value("id", _text)
        if rule_id is not None:
            if rule_id in seen:
                reader.problem("id", "must be unique among the safety rules", rule_id)
            seen.add(rule_id)
        description = reader.value("description", _text)
        event = reader.value("event", _one_of(SAFETY_EVENTS))
        threshold = reader.value("threshold", _whole(1))
        scope = reader.value("scope", _one_of(SCOPES))
        within = reader.value("within_days_of_infusion", _whole(0), required=False)
        min_grade = None
        if event == "death" and reader.has("min_grade"):
            reader.problem("min_grade", "only for adverse-event kinds (a death has no grade)", reader.table["min_grade"])
        else:
            min_grade = reader.value("min_grade", _whole(1, 5), required=False)
        action = reader.value("action", _text)
        out.append(SafetyRule(rule_id, description, event, threshold, scope, within, min_grade, action))
    return tuple(out)


def parse_charter(text: str, source: str = "charter") -> Charter:
    """The charter in ``text`` (TOML, docs/charter.md); ``source`` names it in messages (the file name).

    Raises :class:`CharterError` listing every problem: syntax, unknown keys, missing or mistyped values,
    values out of range."""
    problems: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CharterError([f"{source}: (file): not valid TOML: {exc} (got the text as written)"]) from None
    _Reader(source, problems, "", data, "")
    for table in ("charter", "primary", "efficacy", "futility"):
        if table in data and not isinstance(data[table], dict):
            problems.append(f"{source}: {table}: must be a table, [{table}] (got {_shown(data[table])})")
    for table in ("charter", "primary", "efficacy"):
        if table not in data:
            problems.append(f"{source}: {table}: required table [{table}] is missing (got nothing)")

    present = {table: isinstance(data.get(table), dict) for table in ("charter", "primary", "efficacy", "futility")}
    head = _Reader(source, problems, "charter", data.get("charter"), "charter")
    version = head.value("version", _text) if present["charter"] else None
    title = head.value("title", _text) if present["charter"] else None
    approved_on = head.value("approved_on", _date, required=False)

    primary = _Reader(source, problems, "primary", data.get("primary"), "primary")
    has_primary = present["primary"]
    endpoint = primary.value("endpoint", _one_of(CHARTER_ENDPOINTS)) if has_primary else None
    hazard_ratio = primary.value("design_hazard_ratio", _hazard_ratio) if has_primary else None
    allocation = primary.value("allocation_ratio", _positive) if has_primary else None
    planned = primary.value("planned_events", _whole(2)) if has_primary else None
    fractions = primary.value("information_fractions", _fractions) if has_primary else None

    efficacy = _Reader(source, problems, "efficacy", data.get("efficacy"), "efficacy")
    has_efficacy = present["efficacy"]
    sides = efficacy.value("sides", lambda v: None if v in (1, 2) and not isinstance(v, bool) else "must be 1 or 2") \
        if has_efficacy else None
    alpha = efficacy.value("alpha", _between(0, 0.5)) if has_efficacy else None
    spending = efficacy.value("spending", _one_of(SPENDING_FUNCTIONS)) if has_efficacy else None
    gamma = _gamma(efficacy, spending)

    futility = _futility(source, problems, data["futility"]) if present["futility"] else None
    rules = _safety_rules(source, problems, data.get("safety_rules"))
    if problems:
        raise CharterError(problems)
    return Charter(
        version=version, title=title, approved_on=approved_on, endpoint=endpoint,
        design_hazard_ratio=float(hazard_ratio), allocation_ratio=float(allocation), planned_events=planned,
        information_fractions=tuple(float(f) for f in fractions), sides=sides, alpha=float(alpha), spending=spending,
        gamma=gamma, futility=futility, safety_rules=rules, text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _spending_label(spending: str, gamma: float | None) -> str:
    names = {"obf": "O'Brien-Fleming type (Lan-DeMets)", "pocock": "Pocock type (Lan-DeMets)",
             "hsd": f"Hwang-Shih-DeCani, gamma {gamma:g}" if gamma is not None else "Hwang-Shih-DeCani"}
    return names[spending]


def _rule_label(rule: SafetyRule) -> str:
    what = rule.event.replace("_", " ") + "s"
    if rule.min_grade is not None:
        what += f" of grade {rule.min_grade} or worse"
    if rule.within_days_of_infusion is not None:
        what += f" within {rule.within_days_of_infusion} days of an infusion"
    where = "in either arm" if rule.scope == "each_arm" else "over all patients"
    return f"{rule.id}: {rule.threshold} or more {what} {where} -> {rule.action}"


def charter_summary(charter: Charter) -> pd.DataFrame:
    """item, value: what a data manager checks before loading the charter (version, endpoint, planned events
    and looks, alpha and spending, futility, safety rules)."""
    futility = "none"
    if charter.futility is not None and charter.futility.rule == "conditional_power":
        futility = f"non-binding: conditional power under the design HR below {charter.futility.threshold:g}"
    elif charter.futility is not None:
        futility = (f"non-binding: beta spending, beta {charter.futility.beta:g}, "
                    f"{_spending_label(charter.futility.spending, charter.futility.gamma)}")
    rows = [
        ("Version", charter.version), ("Title", charter.title),
        ("Approved on", charter.approved_on.isoformat() if charter.approved_on else "not stated"),
        ("Primary endpoint", f"{ENDPOINTS[charter.endpoint].short} ({charter.endpoint})"),
        ("Design hazard ratio", f"{charter.design_hazard_ratio:g}"),
        ("Allocation (active : control)", f"{charter.allocation_ratio:g} : 1"),
        ("Planned events", str(charter.planned_events)),
        ("Looks (information fraction: events)",
         ", ".join(f"{f:g}: {n}" for f, n in zip(charter.information_fractions, charter.planned_looks_events))),
        ("Alpha", f"{charter.alpha:g} {'one' if charter.sides == 1 else 'two'}-sided"),
        ("Alpha spending", _spending_label(charter.spending, charter.gamma)),
        ("Futility", futility),
        *((f"Safety rule {i}", _rule_label(rule)) for i, rule in enumerate(charter.safety_rules, start=1)),
        ("SHA-256", charter.sha256),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


# --- safety rules ---------------------------------------------------------------------------------------

EVENT_COLUMNS = ("usubjid", "kind", "grade", "days_since_infusion")


@dataclass(frozen=True)
class RuleResult:
    """One safety rule at this cut: ``counts`` per arm (or ``{"All patients": n}`` when pooled), whether it
    is ``met``, and the ``patients`` whose events count."""

    rule: SafetyRule
    met: bool
    counts: dict[str, int]
    patients: tuple[str, ...]


def days_since_last_infusion(events: pd.DataFrame, infusions: pd.DataFrame, *, day_col: str = "study_day") -> pd.Series:
    """Days from each event (``events[day_col]``, a study day) back to the same patient's last infusion on
    or before that day (``infusions``: usubjid, study_day): 0 on the infusion's day; <NA> when the patient
    had no infusion by then. Indexed like ``events``."""
    func = "days_since_last_infusion"
    require_columns(func, events, ("usubjid", day_col), arg="events")
    require_columns(func, infusions, ("usubjid", "study_day"), arg="infusions")
    out = pd.Series(pd.NA, index=events.index, dtype="Int64")
    known = events[events[day_col].notna()]
    if known.empty or infusions.empty:
        return out
    left = pd.DataFrame({"usubjid": known["usubjid"].astype(str), "day": known[day_col].astype("int64"),
                         "row": known.index}).sort_values("day")
    right = pd.DataFrame({"usubjid": infusions["usubjid"].astype(str),
                          "day": infusions["study_day"].astype("int64"), "infused_on_day": infusions["study_day"]
                          .astype("int64")}).sort_values("day")
    matched = pd.merge_asof(left, right, on="day", by="usubjid", direction="backward", allow_exact_matches=True)
    since = (matched["day"] - matched["infused_on_day"]).astype("Int64")
    out.loc[matched["row"].to_numpy()] = since.to_numpy()
    return out


def safety_events(subjects: pd.DataFrame, infusions: pd.DataFrame, adverse_events: pd.DataFrame, *,
                  group_col: str | None = None) -> pd.DataFrame:
    """The candidate events of the safety rules, one row per event and kind: usubjid, kind, grade,
    days_since_infusion (and ``group_col`` when given).

    A death (``subjects``: usubjid, death_on, day1_on) is a "death" row without grade; an adverse event
    (``adverse_events``: usubjid, onset_day, grade, serious, infusion_related) is an "adverse_event" row and
    also a "serious_adverse_event" row when serious and an "infusion_reaction" row when infusion-related.
    ``days_since_infusion`` counts from the patient's last infusion (``infusions``: usubjid, study_day) on or
    before the event's study day."""
    func = "safety_events"
    require_columns(func, subjects, ("usubjid", "death_on", "day1_on"), arg="subjects")
    check_group_col(func, subjects, group_col, arg="subjects")
    require_columns(func, adverse_events, ("usubjid", "onset_day", "grade", "serious", "infusion_related"),
                    arg="adverse_events")
    dead = subjects[subjects["death_on"].notna()]
    deaths = pd.DataFrame({"usubjid": dead["usubjid"], "kind": "death", "grade": pd.Series(pd.NA, index=dead.index,
                                                                                          dtype="Int64"),
                           "day": study_day(dead["death_on"], dead["day1_on"])})
    ae = adverse_events
    parts = [deaths]
    for kind, rows in (("adverse_event", ae), ("serious_adverse_event", ae[ae["serious"].astype(bool)]),
                       ("infusion_reaction", ae[ae["infusion_related"].astype(bool)])):
        parts.append(pd.DataFrame({"usubjid": rows["usubjid"], "kind": kind, "grade": rows["grade"].astype("Int64"),
                                   "day": rows["onset_day"].astype("Int64")}))
    events = pd.concat(parts, ignore_index=True)
    events["days_since_infusion"] = days_since_last_infusion(events, infusions, day_col="day")
    if group_col is not None:
        events[group_col] = events["usubjid"].map(subjects.set_index("usubjid")[group_col])
    columns = [*EVENT_COLUMNS, *([group_col] if group_col else [])]
    return events[columns].sort_values(["kind", "usubjid"], kind="stable").reset_index(drop=True)


def evaluate_safety_rules(rules: Sequence[SafetyRule], events: pd.DataFrame, group_col: str | None, *,
                          arms: Sequence[str] = ()) -> tuple[RuleResult, ...]:
    """Each rule's counts and whether it is met, from ``events`` (one row per candidate event: usubjid, kind,
    grade, days_since_infusion and ``group_col``; see :func:`safety_events`).

    An event counts when its kind is the rule's event, its grade is at least ``min_grade`` (when set) and
    0 <= days_since_infusion <= ``within_days_of_infusion`` (when set; an unknown value does not count).
    Deaths count once per patient. With ``group_col`` a rule of scope "each_arm" is counted per arm (every
    arm of ``arms`` listed, with 0 when it has none) and met when any arm reaches the threshold; a "pooled"
    rule, and every rule when ``group_col`` is None (a blinded view), is counted over all patients as
    ``{"All patients": n}``. A blinded view's "each_arm" rule is then met when the pooled count reaches the
    threshold: the rule may be met in an arm, which only the unblinded view can tell."""
    func = "evaluate_safety_rules"
    require_columns(func, events, EVENT_COLUMNS, arg="events")
    check_group_col(func, events, group_col, arg="events")
    unknown = set(events["kind"]) - set(SAFETY_EVENTS)
    if unknown:
        raise ValueError(f"{func}: argument events has kind(s) {sorted(unknown)}; allowed values: {list(SAFETY_EVENTS)}.")
    results = []
    for rule in rules:
        rows = events[events["kind"] == rule.event]
        if rule.min_grade is not None:
            rows = rows[(rows["grade"] >= rule.min_grade).fillna(False).astype(bool)]
        if rule.within_days_of_infusion is not None:
            days = rows["days_since_infusion"]
            rows = rows[((days >= 0) & (days <= rule.within_days_of_infusion)).fillna(False).astype(bool)]
        if rule.event == "death":
            rows = rows.drop_duplicates("usubjid")
        if group_col is not None and rule.scope == "each_arm":
            observed = rows[group_col].value_counts()
            groups = list(dict.fromkeys([*arms, *sorted(observed.index)]))
            counts = {str(g): int(observed.get(g, 0)) for g in groups}
        else:
            counts = {POOLED_LABEL: len(rows)}
        met = any(n >= rule.threshold for n in counts.values())
        results.append(RuleResult(rule, met, counts, tuple(sorted(set(rows["usubjid"].astype(str))))))
    return tuple(results)
