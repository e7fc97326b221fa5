"""Domain layer: the survival page's tables, from the result objects of :mod:`dashboard.domain.survival`.

Numbers stay numbers (the UI formats them), so a table shows exactly what the command line prints.
Times are converted from days to the display unit (``per`` days per unit); nothing is recomputed here.
Column names are what a reader sees. A pooled result has no comparison rows, so no arm name can appear.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.domain.competing_risks import CIFResult, GrayTest
from dashboard.domain.cox import CoxResult, LogrankResult
from dashboard.domain.km import KMResult, MilestoneResult, RMSTResult
from dashboard.domain.subgroups import SubgroupResult
from dashboard.domain.survival import SurvivalAnalysis

TIME_COLUMNS = ("median", "median_lower", "median_upper", "q25", "q75")


def km_summary_table(km: KMResult, per: float = 1.0) -> pd.DataFrame:
    """Group, N, Events, Median, CI lower, CI upper (of the median), Q25, Q75 (times by which 25 % and
    75 % had the event), in the display unit."""
    s = km.summary.copy()
    s[list(TIME_COLUMNS)] = s[list(TIME_COLUMNS)] / per
    return s.rename(columns={"group": "Group", "n": "N", "events": "Events", "median": "Median",
                             "median_lower": "CI lower", "median_upper": "CI upper", "q25": "Q25", "q75": "Q75"})


def logrank_table(result: LogrankResult) -> pd.DataFrame:
    return pd.DataFrame([{"Chi-square": result.chi2, "df": result.df, "p": result.p}])


def cox_table(result: CoxResult) -> pd.DataFrame:
    """One row per compared group: "<group> vs <reference>", HR, 95% CI, p."""
    s = result.summary
    return pd.DataFrame({"Comparison": s["group"] + " vs " + s["reference"], "HR": s["hr"],
                         "Lower": s["lower"], "Upper": s["upper"], "p": s["p"]})


def milestone_table(result: MilestoneResult, labels: Mapping[int, str]) -> pd.DataFrame:
    """Milestone, Group, Survival, Lower, Upper (NaN beyond a group's follow-up)."""
    s = result.summary
    return pd.DataFrame({"Milestone": s["day"].map(labels), "Group": s["group"], "Survival": s["survival"],
                         "Lower": s["lower"], "Upper": s["upper"]})


def milestone_difference_table(result: MilestoneResult, labels: Mapping[int, str]) -> pd.DataFrame:
    """Milestone, Comparison, Difference in survival, Lower, Upper, p; empty when pooled."""
    d = result.difference
    return pd.DataFrame({"Milestone": d["day"].map(labels), "Comparison": d["group"] + " − " + d["reference"],
                         "Difference": d["difference"], "Lower": d["lower"], "Upper": d["upper"], "p": d["p"]})


def rmst_tables(result: RMSTResult, per: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group (Group, RMST, SE, Lower, Upper) and differences (Comparison, Difference, Lower, Upper,
    p), times in the display unit; the difference table is empty when pooled."""
    s, d = result.summary, result.difference
    groups = pd.DataFrame({"Group": s["group"], "RMST": s["rmst"] / per, "SE": s["se"] / per,
                           "Lower": s["lower"] / per, "Upper": s["upper"] / per})
    diff = pd.DataFrame({"Comparison": d["group"] + " − " + d["reference"], "Difference": d["difference"] / per,
                         "Lower": d["lower"] / per, "Upper": d["upper"] / per, "p": d["p"]})
    return groups, diff


def cif_count_table(cif: CIFResult) -> pd.DataFrame:
    """Group, N, Deaths, Transplants (competing), Censored."""
    t = cif.table.groupby("group", sort=False)[["events", "competing", "censored"]].sum().reindex(list(cif.groups))
    n = cif.table.groupby("group", sort=False)["at_risk"].first().reindex(list(cif.groups))
    return pd.DataFrame({"Group": list(cif.groups), "N": n.to_numpy(), "Deaths": t["events"].to_numpy(),
                         "Transplants (competing)": t["competing"].to_numpy(), "Censored": t["censored"].to_numpy()})


def cif_milestone_table(by_cause: Mapping[str, pd.DataFrame], labels: Mapping[int, str]) -> pd.DataFrame:
    """From :func:`dashboard.domain.competing_risks.cif_at` per cause (cause label -> its values): Milestone,
    Group and one "Cumulative incidence of <cause>" column per cause."""
    first = next(iter(by_cause.values()))
    table = pd.DataFrame({"Milestone": first["day"].map(labels), "Group": first["group"]})
    for cause, values in by_cause.items():
        table[f"Cumulative incidence of {cause}"] = values["cif"].to_numpy()
    return table


def gray_table(tests: Mapping[str, GrayTest]) -> pd.DataFrame:
    """Gray's test per cause (cause label -> its test): Cause, Chi-square, df, p."""
    return pd.DataFrame({"Cause": list(tests), "Chi-square": [t.statistic for t in tests.values()],
                         "df": [t.df for t in tests.values()], "p": [t.p for t in tests.values()]})


def subgroup_table(result: SubgroupResult) -> pd.DataFrame:
    """Subgroup, Level, Comparison, patients/events per arm, HR with CI, interaction p (no p per level)."""
    s = result.summary
    return pd.DataFrame({"Subgroup": s["variable"].map(result.labels), "Level": s["level"],
                         "Comparison": s["group"] + " vs " + s["reference"],
                         "N": s["n"], "Events": s["events"], "N reference": s["n_reference"],
                         "Events reference": s["events_reference"], "HR": s["hr"], "Lower": s["lower"],
                         "Upper": s["upper"], "Interaction p": s["interaction_p"]})


def cut_comparison_table(analyses: Mapping[str, SurvivalAnalysis], per: float = 1.0) -> pd.DataFrame:
    """One row per data cut and group: N, events, median with CI and, where estimated, the hazard ratio
    against the reference with its CI. ``analyses`` maps a cut label to that cut's analysis."""
    rows = []
    for label, analysis in analyses.items():
        table = km_summary_table(analysis.km, per).assign(Cut=label)
        if analysis.cox is not None:
            hr = analysis.cox.summary.set_index("group")
            table["HR vs " + analysis.reference] = table["Group"].map(hr["hr"])
            table["HR lower"] = table["Group"].map(hr["lower"])
            table["HR upper"] = table["Group"].map(hr["upper"])
        rows.append(table.drop(columns=["Q25", "Q75"]))
    out = pd.concat(rows, ignore_index=True)
    return out[["Cut"] + [c for c in out.columns if c != "Cut"]]
