"""The /labs shift table from counts computed in DuckDB equals ``shift_table`` on the fetched rows, exactly, by arm
and pooled, for all patients and for women; on the demo trial, on a messy copy of it (records without their own
limits or with other limits than the registry's, repeated baselines, screening rows, rows without a visit, patients
without a baseline or a later value, an imported code without a registry range) and on the CDISC pilot."""

import re

import pandas as pd
import pytest

from dashboard.data import queries
from dashboard.data.shift_aggregates import lab_shift_counts
from dashboard.domain import POOLED_LABEL
from dashboard.domain.lab_safety import MISSING, shift_from_counts
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded, needs_pilot
from tests.data.sql_helpers import SqlRecorder, messy_copy, study_groups
from tests.oracle.lab_safety import shift_table

FILTERS = {"all": SubjectFilter(), "women": SubjectFilter(sex=("F",))}
CODES = ("ALT", "BILI", "ALB", "PTA", "SODIUM")
MESS = """
    -- Own limits other than the registry's on some records, none on others (the registry's then applies), and an
    -- ULN of 0 on a few ALT records, some with a value of 0 (0 / 0).
    UPDATE lab_results SET upper_limit = upper_limit * 2 WHERE paramcd IN ('ALT', 'BILI') AND hash(usubjid, study_day) % 5 = 1;
    UPDATE lab_results SET upper_limit = NULL WHERE paramcd IN ('ALT', 'BILI') AND hash(usubjid, study_day) % 5 = 0;
    UPDATE lab_results SET lower_limit = lower_limit * 0.8
        WHERE paramcd IN ('ALB', 'SODIUM') AND hash(usubjid, study_day) % 5 = 1;
    UPDATE lab_results SET lower_limit = NULL WHERE paramcd IN ('ALB', 'SODIUM') AND hash(usubjid, study_day) % 5 = 0;
    UPDATE lab_results SET upper_limit = 0 WHERE paramcd = 'ALT' AND hash(usubjid, study_day) % 13 = 2;
    UPDATE lab_results SET value = 0 WHERE paramcd = 'ALT' AND hash(usubjid, study_day) % 26 = 2;
    -- An imported code without a registry range: records without their own limit rank "normal".
    INSERT INTO lab_results SELECT * REPLACE ('GGT' AS paramcd, CASE WHEN hash(usubjid, study_day) % 4 = 0 THEN NULL
                                              ELSE 50.0 END AS upper_limit) FROM lab_results WHERE paramcd = 'ALT';
    INSERT INTO lab_results SELECT * REPLACE ('KETO' AS paramcd, NULL AS lower_limit, NULL AS upper_limit)
        FROM lab_results WHERE paramcd = 'ALT';
    -- Repeated baselines in other categories: an earlier one (loses) and a later one (wins); screening rows.
    INSERT INTO lab_results SELECT * REPLACE (study_day - 2 AS study_day, value * 4 AS value) FROM lab_results
        WHERE visit_num = 0 AND hash(usubjid, paramcd) % 3 = 0;
    INSERT INTO lab_results SELECT * REPLACE (study_day + 1 AS study_day, value * 0.2 AS value) FROM lab_results
        WHERE visit_num = 0 AND hash(usubjid, paramcd) % 4 = 1 AND study_day = (
            SELECT max(study_day) FROM lab_results m WHERE m.usubjid = lab_results.usubjid
            AND m.paramcd = lab_results.paramcd AND m.visit_num = 0);
    INSERT INTO lab_results SELECT * REPLACE (-1 AS visit_num, study_day - 10 AS study_day, value * 20 AS value)
        FROM lab_results WHERE visit_num = 0 AND hash(usubjid, paramcd) % 7 = 0 AND hash(usubjid, paramcd) % 3 <> 0;
    -- Rows without a visit; patients without a baseline, or without a later value.
    UPDATE lab_results SET visit_num = NULL WHERE visit_num > 0 AND hash(usubjid, paramcd, study_day) % 11 = 0;
    DELETE FROM lab_results WHERE visit_num = 0 AND hash(usubjid, paramcd) % 19 = 1;
    DELETE FROM lab_results WHERE visit_num > 0 AND hash(usubjid, paramcd) % 17 = 3;
    -- The first patient (UC-MSC) has rows without a visit only, so the first group met is placebo; a patient
    -- missing from subjects is no selected patient.
    UPDATE lab_results SET visit_num = NULL WHERE usubjid = (SELECT min(usubjid) FROM subjects);
    INSERT INTO lab_results SELECT * REPLACE ('AAA-0000' AS usubjid) FROM lab_results
        WHERE usubjid = (SELECT max(usubjid) FROM subjects);
    -- Same-day baseline repeats with another value: the baseline must not depend on row order.
    INSERT INTO lab_results SELECT * REPLACE (value * 3 + 1 AS value) FROM lab_results
        WHERE visit_num = 0 AND hash(usubjid, paramcd) % 4 = 2;
"""


@pytest.fixture(scope="module")
def messy_con(trial_db):
    with messy_copy(trial_db, ("study", "subjects", "lab_results"), MESS) as c:
        yield c


@pytest.fixture(params=["demo", "messy"])
def con(request):
    return request.getfixturevalue(f"{request.param}_con")




def _both(con, f, code, include_arm, groups):
    """(shift_table on the fetched rows, shift_from_counts on the SQL counts)."""
    rows = queries.lab_rows(con, f, (code,), include_arm)
    expected = shift_table(rows, group_col="arm" if include_arm else None, paramcd=code, groups=groups)
    return expected, shift_from_counts(lab_shift_counts(con, f, code, include_arm), paramcd=code, groups=groups)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_shift_from_sql_counts_equals_shift_table(con, include_arm, f, code):
    # groups=None too: both paths then order the groups by first appearance (first patient by usubjid).
    for groups in (study_groups(con, include_arm), None):
        expected, got = _both(con, f, code, include_arm, groups)
        pd.testing.assert_frame_equal(got, expected)
        assert (expected["n"] > 0).sum() >= 2
        assert expected["group"].nunique() == (2 if include_arm else 1)


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_an_imported_code_whose_records_partly_lack_limits_matches(messy_con, include_arm, f):
    expected, got = _both(messy_con, f, "GGT", include_arm, study_groups(messy_con, include_arm))
    pd.testing.assert_frame_equal(got, expected)
    rows = queries.lab_rows(messy_con, f, ("GGT",), include_arm)
    assert rows["upper_limit"].isna().any() and rows["upper_limit"].notna().any()
    assert expected.loc[expected["baseline"] != "normal", "n"].sum() > 0


def test_the_mess_reaches_every_category_and_changes_the_table(demo_con, messy_con):
    f, groups = SubjectFilter(), study_groups(demo_con, True)
    demo, _ = _both(demo_con, f, "ALT", True, groups)
    messy, _ = _both(messy_con, f, "ALT", True, groups)
    assert not demo.equals(messy)
    hit = messy[messy["n"] > 0]
    assert {MISSING, "normal", ">10x ULN"} <= set(hit["baseline"]) and MISSING in set(hit["worst_post_baseline"])
    # An ULN of 0 is there, with values of 0 (NaN ratio, "normal") and above (infinite ratio, ">10x ULN").
    rows = queries.lab_rows(messy_con, f, ("ALT",), True)
    zero = rows[rows["upper_limit"] == 0]
    assert (zero["value"] == 0).any() and (zero["value"] > 0).any()


def test_groups_none_orders_groups_by_first_patient_and_a_list_by_itself(messy_con):
    f = SubjectFilter()
    for groups, order in ((None, ["Placebo", "UC-MSC"]), (["UC-MSC", "Placebo"], ["UC-MSC", "Placebo"]),
                          (["Placebo", "Other"], ["Placebo"])):
        expected, got = _both(messy_con, f, "ALT", True, groups)
        pd.testing.assert_frame_equal(got, expected)
        assert list(pd.unique(got["group"])) == order
    pooled, _ = _both(messy_con, f, "ALT", False, None)
    assert list(pd.unique(pooled["group"])) == [POOLED_LABEL]


@pytest.mark.parametrize("code, f", [
    ("MELD", SubjectFilter()),                       # derived: no reference range
    ("KETO", SubjectFilter()),                       # imported, no record has a limit
    ("ALT", SubjectFilter(id_search="nobody")),      # no patient: nothing to categorise, as in shift_table
])
def test_labs_without_a_reference_range_are_refused_by_both_paths(messy_con, include_arm, code, f):
    rows = queries.lab_rows(messy_con, f, (code,), include_arm)
    with pytest.raises(ValueError, match=f"shift_table: paramcd='{code}' has no reference range"):
        shift_table(rows, group_col="arm" if include_arm else None, paramcd=code)
    with pytest.raises(ValueError, match=f"shift_from_counts: paramcd='{code}' has no reference range"):
        shift_from_counts(lab_shift_counts(messy_con, f, code, include_arm), paramcd=code)



def test_pooled_query_never_reads_the_arm(demo_con):
    rec = SqlRecorder(demo_con)
    counts = [lab_shift_counts(rec, f, "ALT", False) for f in FILTERS.values()]
    assert not any(re.search(r"\barm\b", sql) for sql in rec.sql)
    for c in counts:
        assert len(c) > 0 and c["group"].isna().all() and "arm" not in c.columns


@needs_pilot
def test_every_lab_of_the_cdisc_pilot_matches(pilot_sdtm, include_arm):
    db, _ = pilot_sdtm
    with connect_unblinded(db) as c:
        groups = study_groups(c, include_arm)
        codes = list(queries.lab_parameters(c)["paramcd"])
        refused = 0
        for code in codes:
            try:
                expected = shift_table(queries.lab_rows(c, SubjectFilter(), (code,), include_arm),
                                       group_col="arm" if include_arm else None, paramcd=code, groups=groups)
            except ValueError:
                refused += 1
                with pytest.raises(ValueError, match="no reference range"):
                    shift_from_counts(lab_shift_counts(c, SubjectFilter(), code, include_arm), paramcd=code)
                continue
            got = shift_from_counts(lab_shift_counts(c, SubjectFilter(), code, include_arm), paramcd=code, groups=groups)
            pd.testing.assert_frame_equal(got, expected)
    assert len(codes) > 30 and 0 < refused < len(codes) - 30
