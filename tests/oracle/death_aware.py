"""Oracle of ``dashboard.data.lab_state_aggregates`` and the CTCAE shift counts in pandas, from the fetched rows
(the rule of ``domain.death_aware``, written again over whole frames: a patient x visit grid, each patient's last
value at a visit by study day, exits on or before the target day, visits not yet due dropped). Vectorised, so the
bench's naive source can answer these queries on 100,000 patients too."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.death_aware import DIED, EXIT_CODES, LEFT, NO_VALUE, TRANSPLANTED, StateScale
from dashboard.domain.labs import describe

_PASSES = {">=": np.greater_equal, ">": np.greater, "<": np.less}
_EXIT_CODE = {"died": EXIT_CODES[DIED], "transplanted": EXIT_CODES[TRANSPLANTED],
              "withdrawn": EXIT_CODES[LEFT], "lost to follow-up": EXIT_CODES[LEFT]}


def _measure(rows: pd.DataFrame, scale: StateScale) -> pd.Series:
    if scale.measure == "value":
        return rows["value"]
    param = describe(scale.paramcd)
    column, default = (("upper_limit", param.upper_limit) if scale.measure == "ratio_upper"
                       else ("lower_limit", param.lower_limit))
    limit = rows[column].astype(float).fillna(np.nan if default is None else default)
    return rows["value"] / limit


def _cut_day(subjects: pd.DataFrame, cut_date) -> pd.Series:
    return (pd.Timestamp(cut_date) - pd.to_datetime(subjects["day1_on"])).dt.days + 1


def lab_state_counts(rows: pd.DataFrame, subjects: pd.DataFrame, visits: pd.DataFrame, cut_date, scale: StateScale,
                     group_col: str | None) -> pd.DataFrame:
    """``rows``: queries.lab_rows of one lab; ``subjects``: the selected patients with status, day1_on and
    ``exit_day`` (tests.oracle.labstats.add_exit_day); ``visits``: the schedule; ``cut_date``: the data cut."""
    r = rows[rows["visit_num"].notna() & rows["value"].notna()].sort_values("study_day", kind="stable")
    last = r.groupby(["usubjid", "visit_num"]).tail(1)
    x = last.assign(x=_measure(last, scale).to_numpy())[["usubjid", "visit_num", "x"]]
    pats = subjects.assign(group=subjects[group_col] if group_col else None, cut_day=_cut_day(subjects, cut_date))
    grid = pats[["usubjid", "group", "status", "exit_day", "cut_day"]].merge(
        visits[["visit", "visit_num", "target_day", "window_hi"]], how="cross")
    grid = grid.merge(x, on=["usubjid", "visit_num"], how="left")
    band = sum(_PASSES[scale.op](grid["x"].to_numpy(float), c).astype(int) for c in scale.cuts)
    measured = grid["x"].notna().to_numpy()
    left = (grid["exit_day"] <= grid["target_day"]).to_numpy() & grid["status"].isin(list(_EXIT_CODE)).to_numpy()
    due = (grid["cut_day"] >= grid["window_hi"]).to_numpy()
    state = np.select([~due, measured, left], [np.nan, band, grid["status"].map(_EXIT_CODE).fillna(-1).to_numpy()],
                       EXIT_CODES[NO_VALUE])
    grid = grid.assign(state=state)
    baseline = grid.loc[grid["visit_num"] == 0].set_index("usubjid")["state"]
    grid = grid[grid["state"].notna()].assign(baseline_state=lambda g: g["usubjid"].map(baseline))
    return (grid.groupby(["group", "visit", "visit_num", "baseline_state", "state"], dropna=False).size()
            .rename("n").reset_index())


def lab_landmark_rows(rows: pd.DataFrame, subjects: pd.DataFrame, visits: pd.DataFrame, cut_date,
                      visit_num: int, group_col: str | None) -> pd.DataFrame:
    """``lab_state_aggregates.lab_landmark_rows`` from the same inputs as :func:`lab_state_counts` (subjects
    with death_on, transplant_on and last_contact_on)."""
    visit = visits.set_index("visit_num").loc[visit_num]
    r = rows[rows["value"].notna()].sort_values("study_day", kind="stable")
    value_at = {n: r[r["visit_num"] == n].groupby("usubjid")["value"].last() for n in (0, visit_num)}
    day1 = pd.to_datetime(subjects["day1_on"])

    def day(column: str) -> pd.Series:
        return (pd.to_datetime(subjects[column]) - day1).dt.days + 1.0

    out = pd.DataFrame({"usubjid": subjects["usubjid"], "group": subjects[group_col] if group_col else None,
                        "baseline": subjects["usubjid"].map(value_at[0]),
                        "value": subjects["usubjid"].map(value_at[visit_num]),
                        "death_day": day("death_on"), "transplant_day": day("transplant_on"),
                        "followup_day": day("death_on").fillna(day("last_contact_on"))})
    keep = _cut_day(subjects, cut_date) >= visit["window_hi"]
    return out[keep].sort_values("usubjid").reset_index(drop=True)


def grade_shift_counts(rows: pd.DataFrame, grades: pd.Series, group_col: str | None) -> pd.DataFrame:
    """``shift_aggregates.lab_grade_shift_counts``: per patient the grade of the last baseline record (by study
    day, then value) and the worst grade after baseline, of the records that have a grade."""
    data = rows.assign(grade=grades.to_numpy())
    data = data[data["grade"].notna() & data["visit_num"].notna()]
    base = (data[data["visit_num"] == 0].sort_values(["study_day", "value"], kind="stable")
            .groupby("usubjid")["grade"].last())
    worst = data[data["visit_num"] > 0].groupby("usubjid")["grade"].max()
    pats = data.drop_duplicates("usubjid").set_index("usubjid")
    table = pd.DataFrame({"group": pats[group_col] if group_col else None,
                          "baseline_grade": base.reindex(pats.index), "worst_grade": worst.reindex(pats.index)})
    return table.groupby(["group", "baseline_grade", "worst_grade"], dropna=False).size().rename("n").reset_index()
