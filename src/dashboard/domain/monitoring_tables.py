"""Tables of the monitoring results as the page, the deck and the command line print them: human headings,
p-values to 3 significant digits, "—" where a look has no value yet."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.domain.charter import RuleResult

NOT_YET = "—"


def _number(value, pattern: str) -> str:
    return NOT_YET if value is None or pd.isna(value) else pattern.format(value)


def _p(value) -> str:
    if value is None or pd.isna(value):
        return NOT_YET
    return "<0.001" if value < 0.001 else f"{value:#.3g}"


def looks_display(looks: pd.DataFrame, sides: int) -> pd.DataFrame:
    """One row per analysis of the design at the observed information: the data cuts analysed (date,
    events, Z, HR, repeated CI), then the planned analyses ahead; the futility column only with one."""
    rci = [NOT_YET if pd.isna(lo) else f"({lo:.2f}, {hi:.2f})" for lo, hi in zip(looks["rci_lower"], looks["rci_upper"])]
    table = pd.DataFrame({
        "Analysis": looks["analysis"],
        "Data": looks["label"],
        "Date": [NOT_YET if d is None or pd.isna(d) else f"{d:%Y-%m-%d}" for d in looks["date"]],
        "Events": looks["events"],
        "Information": [f"{t:.0%}" for t in looks["information"]],
        "Z": [_number(z, "{:.3f}") for z in looks["z"]],
        "Boundary Z": [f"{'±' if sides == 2 else ''}{z:.3f}" for z in looks["efficacy_z"]],
        f"Nominal p ({sides}-sided)": [_p(p) for p in looks["nominal_p"]],
        "Cum. alpha": [f"{a:.4f}" for a in looks["cumulative_alpha"]],
        "Futility Z": [_number(z, "{:.3f}") for z in looks["futility_z"]],
        "HR": [_number(h, "{:.2f}") for h in looks["hazard_ratio"]],
        "Repeated CI": rci,
    })
    return table if (table["Futility Z"] != NOT_YET).any() else table.drop(columns="Futility Z")


def planned_looks_display(planned: pd.DataFrame) -> pd.DataFrame:
    """The charter's planned looks and the data cut that first reached each one's events."""
    last = len(planned)
    return pd.DataFrame({
        "Planned look": [f"{k} (final)" if k == last else str(k) for k in planned["look"]],
        "Information": [f"{t:.0%}" for t in planned["information"]],
        "Events": planned["events"],
        "Reached by": [label or "not yet" for label in planned["reached_by"]]})


def safety_rules_display(results: Sequence[RuleResult]) -> pd.DataFrame:
    """One row per charter safety rule: met or not first, the counts, the rule, its action, who counts."""
    return pd.DataFrame({
        "Status": ["MET" if r.met else "not met" for r in results],
        "Count": [", ".join(f"{group} {n}" for group, n in r.counts.items()) for r in results],
        "Threshold": [f"≥ {r.rule.threshold} {'in either arm' if r.rule.scope == 'each_arm' else 'in all patients'}"
                      for r in results],
        "Rule": [r.rule.description for r in results],
        "Action when met": [r.rule.action for r in results],
        "Patients": [", ".join(r.patients) or NOT_YET for r in results],
    })
