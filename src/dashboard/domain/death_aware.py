"""Domain layer: a lab's state at each scheduled visit with death and transplant as absorbing states.

A by-visit mean or percentage over the patients who still have a value describes survivors: in liver
failure the sickest die first, so both arms appear to recover. Here every selected patient whose visit was
due by the data cut is counted at that visit: in a band of the lab's value when measured there, else as
"Died", "Transplanted" or "Withdrawn or lost" when they left the study on or before the visit's target day,
else as "No value" (alive and on study, not measured). Once dead or transplanted a patient stays so at every
later visit (absorbing states); withdrawn and lost patients are censored, shown apart so the columns add up.

A visit is due for a patient when the data cut falls on or after its window's last day (counted from the
patient's day 1); only patients for whom it is due are in its denominator, dead or alive, measured or not.
Counting the dead at visits that the living enrolled with them have not reached would inflate the deaths of
the late visits (late enrollees who died early would count there, those alive would not).

Bands: MELD scores by the thresholds transplant programmes use (15: transplant benefit exceeds risk, Merion 2005
Am J Transplant 5:307; 25 and 35: the UNOS/OPTN "Share 35" high-priority tiers);
graded parameters (Child-Pugh class, ACLF and AARC grades, AKI stage, HE grade) by their grades; other measured
labs by multiples of their reference limit in the worse direction, as the shift table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import require_columns
from dashboard.domain.composite import WinRatioResult, WorstRankResult
from dashboard.domain.labs import describe
from dashboard.domain.meld import MELD_CODES
from dashboard.domain.report_format import MISSING, fmt_number, fmt_p
from dashboard.errors import UnsuitableData

DIED, TRANSPLANTED, LEFT, NO_VALUE = "Died", "Transplanted", "Withdrawn or lost", "No value"
# Codes of the non-band states in the counts (band codes are 0, 1, ...): far above any band count.
EXIT_CODES = {DIED: 100, TRANSPLANTED: 101, LEFT: 102, NO_VALUE: 103}
STATE_COUNT_COLUMNS = ("group", "visit", "visit_num", "baseline_state", "state", "n")
# Graded parameters (integer codes, docs/data-model.md): the cut points of their grades and the grades' names.
GRADES: dict[str, tuple[tuple[float, ...], tuple[str, ...]]] = {
    "CPCLASS": ((2, 3), ("Child-Pugh A", "Child-Pugh B", "Child-Pugh C")),
    "ACLFGR": ((1, 2, 3), ("No ACLF", "ACLF-1", "ACLF-2", "ACLF-3")),
    "NOF": ((1, 2, 3), ("No organ failure", "1 organ failure", "2 organ failures", ">=3 organ failures")),
    "AARCGR": ((2, 3), ("AARC grade I", "AARC grade II", "AARC grade III")),
    "AKISTAGE": ((1, 2, 3), ("No AKI", "AKI stage 1", "AKI stage 2", "AKI stage 3")),
    "HEGRADE": ((1, 2, 3, 4), ("No HE", "HE grade 1", "HE grade 2", "HE grade 3", "HE grade 4")),
    "VASOPRES": ((1,), ("No vasopressor", "Vasopressor")),
    "RRT": ((1,), ("No RRT", "Renal replacement")),
}


@dataclass(frozen=True)
class StateScale:
    """How a value becomes a band: ``measure`` is the raw value or the value over its reference limit
    (``upper``/``lower``); a value falls in band k when it passes exactly k of ``cuts`` by ``op``."""

    paramcd: str
    measure: Literal["value", "ratio_upper", "ratio_lower"]
    op: Literal[">=", ">", "<"]
    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    description: str

    @property
    def states(self) -> tuple[str, ...]:
        """Every state in display order: bands from best to worst, then the exits and missing values."""
        return (*self.labels, DIED, TRANSPLANTED, LEFT, NO_VALUE)

    def name_of(self, code: int) -> str:
        names = {**dict(enumerate(self.labels)), **{c: s for s, c in EXIT_CODES.items()}}
        return names[int(code)]


def state_scale(paramcd: str) -> StateScale:
    """The bands of ``paramcd``; UnsuitableData for a derived score other than MELD (no agreed bands) or a
    lab without a reference limit in its worse direction."""
    param = describe(paramcd)
    if paramcd in MELD_CODES:
        return StateScale(paramcd, "value", ">=", (15.0, 25.0, 35.0), ("<15", "15-24", "25-34", ">=35"),
                          f"{param.name} bands <15, 15-24, 25-34, >=35 points.")
    if paramcd in GRADES:
        cuts, labels = GRADES[paramcd]
        return StateScale(paramcd, "value", ">=", tuple(float(c) for c in cuts), labels, f"{param.name} by grade.")
    if param.derived:
        raise UnsuitableData(f"{param.name} has no bands for this view; choose MELD, a grade (Child-Pugh class, "
                             "ACLF grade, AARC grade, AKI stage) or a measured lab.")
    if param.worse == "high":
        return StateScale(paramcd, "ratio_upper", ">", (1.0, 3.0, 10.0),
                          ("<=ULN", ">1-3x ULN", ">3-10x ULN", ">10x ULN"),
                          f"{param.name} as multiples of each record's upper limit of normal (ULN).")
    return StateScale(paramcd, "ratio_lower", "<", (1.0, 0.5), (">=LLN", "<LLN", "<0.5x LLN"),
                      f"{param.name} against each record's lower limit of normal (LLN).")


@dataclass(frozen=True)
class StateDistribution:
    """``table``: group, visit, visit_num, state, n, due (patients whose visit was due), pct (of due);
    every state of the scale at every visit, zeros included. ``population`` says who is counted."""

    table: pd.DataFrame
    scale: StateScale
    population: str


def _named(counts: pd.DataFrame, scale: StateScale, groups: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    require_columns("state counts", counts, STATE_COUNT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    present = list(pd.unique(data.loc[data["n"] > 0, "group"]))
    order = present if groups is None else [g for g in groups if g in present]
    data = data[data["group"].isin(order)]
    data = data.assign(state=data["state"].map(scale.name_of),
                       baseline_state=data["baseline_state"].map(lambda c: NO_VALUE if pd.isna(c) else scale.name_of(c)))
    return data, order


def state_distribution(counts: pd.DataFrame, scale: StateScale, *, groups: Sequence[str] | None = None) -> StateDistribution:
    """Patients per state at each visit, from ``lab_state_aggregates.lab_state_counts`` (one row per group,
    visit, baseline state and state with its patient count)."""
    data, order = _named(counts, scale, groups)
    visits = data[["visit", "visit_num"]].drop_duplicates().sort_values("visit_num")
    grid = pd.MultiIndex.from_product([order, visits["visit_num"], list(scale.states)],
                                      names=["group", "visit_num", "state"])
    n = data.groupby(["group", "visit_num", "state"])["n"].sum().reindex(grid, fill_value=0).astype("int64")
    table = n.reset_index().merge(visits, on="visit_num")
    table["due"] = table.groupby(["group", "visit_num"])["n"].transform("sum")
    table["pct"] = 100.0 * table["n"] / table["due"].where(table["due"] > 0)
    table = table[["group", "visit", "visit_num", "state", "n", "due", "pct"]]
    return StateDistribution(table, scale, population_text(table))


def population_text(table: pd.DataFrame) -> str:
    """Who the state view counts, with the deaths and transplants that survivors-only summaries leave out, at
    the last visit that at least half of the patients seen at baseline had reached."""
    due = table.drop_duplicates(["group", "visit_num"]).groupby("visit_num")["due"].sum()
    reached = due[due >= 0.5 * due.max()] if len(due) and due.max() > 0 else due.iloc[0:0]
    if reached.empty:
        return "No selected patient has reached a scheduled visit."
    at = table[table["visit_num"] == reached.index.max()]
    dead = int(at.loc[at["state"] == DIED, "n"].sum())
    transplanted = int(at.loc[at["state"] == TRANSPLANTED, "n"].sum())
    return (f"Population: every selected patient whose visit was due by the data cut, the dead included (Died and "
            f"Transplanted are absorbing states). By {at['visit'].iloc[0]}, {dead} of {int(reached.iloc[-1])} "
            f"patients due had died and {transplanted} had been transplanted.")


def state_shift(counts: pd.DataFrame, scale: StateScale, visit: str, *,
                groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Baseline band (rows) against the state at ``visit`` (columns, exits included), patients per group:
    columns group, baseline, state, n, every combination, zeros included."""
    data, order = _named(counts, scale, groups)
    data = data[data["visit"] == visit]
    if data.empty:
        raise UnsuitableData(f"No selected patient was due at {visit}.")
    rows = [*scale.labels, NO_VALUE]
    grid = pd.MultiIndex.from_product([order, rows, list(scale.states)], names=["group", "baseline", "state"])
    n = (data.rename(columns={"baseline_state": "baseline"}).groupby(["group", "baseline", "state"])["n"].sum()
         .reindex(grid, fill_value=0).astype("int64"))
    return n.reset_index()


def observed_cases_note(exits: pd.DataFrame) -> str:
    """Whom a by-visit mean or percentage describes, from ``labstats.deaths_between_visits``' table: the
    patients alive, on study and measured at each visit; the dead and transplanted are not in it."""
    require_columns("observed_cases_note", exits, ("died", "transplanted"), arg="exits")
    died, transplanted = int(exits["died"].sum()), int(exits["transplanted"].sum())
    return ("Population: observed cases, the patients alive, on study and with a value at each visit. "
            f"{died} selected patients died and {transplanted} were transplanted during follow-up and are not in "
            "the later visits' statistics, so these describe survivors; the view 'Keep the dead' counts them.")


def death_ranked_worst_tables(worst: WorstRankResult, wins: WinRatioResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Display tables of the MELD composite: outcomes per arm (patients, deaths, transplants, survivors, mean
    rank), and the comparisons written as a report prints them (estimate, CI "(lower, upper)", p to three
    significant digits, "–" where a statistic has no CI): the win ratio, the rank ANCOVA, the Wilcoxon test on
    the worst ranks."""
    outcomes = worst.summary.rename(columns={"group": "Arm", "n": "Patients analysed", "deaths": "Died",
                                             "transplants": "Transplanted", "survivors": "Alive (MELD change)",
                                             "mean_rank": "Mean rank (1 = worst)"}).round({"Mean rank (1 = worst)": 1})
    level = f"{round(100 * wins.conf_level)}% CI"
    rows = [(f"Win ratio, {wins.active} vs {wins.reference}", wins.win_ratio, wins.lower, wins.upper, wins.p, 2),
            (f"Rank ANCOVA: difference in mean rank, {worst.active} - {worst.reference}", worst.ancova_difference,
             worst.ancova_lower, worst.ancova_upper, worst.ancova_p, 1),
            (f"Wilcoxon rank-sum on the worst ranks: probability of a better outcome on {worst.active}",
             worst.win_probability, None, None, worst.p_wilcoxon, 2)]
    comparisons = pd.DataFrame([{"Comparison": name, "Estimate": fmt_number(estimate, decimals),
                                 level: MISSING if lower is None else
                                 f"({fmt_number(lower, decimals)}, {fmt_number(upper, decimals)})",
                                 "p": fmt_p(p)} for name, estimate, lower, upper, p, decimals in rows])
    return outcomes, comparisons
