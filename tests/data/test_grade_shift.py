"""The CTCAE shift table (baseline grade against the worst grade after baseline, ADaM ATOXGRL/ATOXGRH): the DuckDB
counts equal a per-patient count of the fetched rows, by arm and pooled, for every graded lab and direction; the
page's analysis gives CTCAE tables for graded labs and the reference-limit table for the others."""

import pandas as pd
import pytest

from dashboard.data.shift_aggregates import lab_grade_shift_counts
from dashboard.domain import ctcae
from dashboard.domain.lab_safety import CTCAE_GRADES, MISSING, grade_shift_from_counts
from dashboard.domain.subject_filter import SubjectFilter

GRADED = [(code, "low") for code in ctcae.LOW] + [(code, "high") for code in ctcae.HIGH]


def _expected(con, f: SubjectFilter, code: str, direction: str, include_arm: bool) -> pd.DataFrame:
    column = f"toxgr_{direction}"
    rows = con.execute(f"""SELECT l.usubjid, l.visit_num, l.study_day, l.value, l.{column} AS grade
                           {", s.arm" if include_arm else ""}
                           FROM lab_results l JOIN subjects s USING (usubjid)
                           WHERE l.paramcd = ? AND l.visit_num IS NOT NULL AND l.{column} IS NOT NULL""",
                       [code]).df()
    if f.sex:
        sexes = con.execute("SELECT usubjid FROM subjects WHERE sex IN (SELECT unnest(?))", [list(f.sex)]).df()
        rows = rows[rows["usubjid"].isin(sexes["usubjid"])]
    counts = []
    for usubjid, mine in rows.groupby("usubjid"):
        base = mine[mine["visit_num"] == 0].sort_values(["study_day", "value"])
        after = mine[mine["visit_num"] > 0]
        counts.append(dict(group=mine["arm"].iloc[0] if include_arm else None,
                           baseline_grade=base["grade"].iloc[-1] if len(base) else None,
                           worst_grade=after["grade"].max() if len(after) else None))
    table = pd.DataFrame(counts, columns=["group", "baseline_grade", "worst_grade"])
    return table.groupby(["group", "baseline_grade", "worst_grade"], dropna=False).size().rename("n").reset_index()


@pytest.mark.parametrize("code, direction", GRADED)
@pytest.mark.parametrize("f", [SubjectFilter(), SubjectFilter(sex=("F",))], ids=["all", "women"])
def test_grade_shift_counts_equal_the_per_patient_count(demo_con, include_arm, f, code, direction):
    got = grade_shift_from_counts(lab_grade_shift_counts(demo_con, f, code, direction, include_arm))
    expected = grade_shift_from_counts(_expected(demo_con, f, code, direction, include_arm))
    pd.testing.assert_frame_equal(got, expected)
    assert got["n"].sum() > 0


def test_the_grid_has_every_grade_and_missing_and_liver_failure_reaches_high_grades(demo_con):
    shift = grade_shift_from_counts(lab_grade_shift_counts(demo_con, SubjectFilter(), "ALB", "low", True))
    assert list(pd.unique(shift["baseline"])) == [*CTCAE_GRADES, MISSING]
    hit = shift[shift["n"] > 0]
    # Hypoalbuminaemia of grade 2 or worse is common in liver failure, at entry and after it.
    assert hit["baseline"].isin(["Grade 2", "Grade 3"]).any() and hit["worst_post_baseline"].isin(["Grade 2", "Grade 3"]).any()
