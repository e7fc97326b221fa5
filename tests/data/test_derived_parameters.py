"""data.derived_parameters: which inputs make an assessment, the derived rows and their values (worked by
hand below from the published formulas; the domain tests check every cut-off), CTCAE grades on every row."""

import numpy as np
import pandas as pd
import pytest

from dashboard.data.derived_parameters import derive_parameters
from dashboard.domain.labs import BY_CODE, DERIVED_CODES

DAY1 = pd.Timestamp("2024-03-04")
# One ACLF patient's assessment (Baseline, day 1). In mg/dL: bilirubin 136.8 / 17.1 = 8, creatinine
# 221 / 88.4 = 2.5; albumin 30 g/L = 3.0 g/dL.
ASSESSMENT = {"BILI": 136.8, "CREAT": 221.0, "HEGRADE": 2, "INR": 2.6, "MAP": 65.0, "SPO2FIO2": 300.0,
              "WBC": 12.0, "ALB": 30.0, "SODIUM": 130.0, "LACTATE": 2.0}
LIMITS = {"BILI": (3.4, 17.1), "CREAT": (44.0, 133.0), "ALB": (35.0, 55.0), "SODIUM": (135.0, 145.0),
          "INR": (0.8, 1.2), "ALT": (0.0, 40.0), "WBC": (3.5, 9.5)}


def rows(usubjid, visit_num, study_day, values, visit=None):
    return [{"usubjid": usubjid, "paramcd": code, "param": code, "unit": "u",
             "visit": visit or (f"V{visit_num}" if visit_num is not None else None), "visit_num": visit_num,
             "study_day": study_day, "collected_on": DAY1 + pd.Timedelta(days=study_day - 1), "value": float(value),
             "lower_limit": LIMITS.get(code, (np.nan, np.nan))[0], "upper_limit": LIMITS.get(code, (np.nan, np.nan))[1]}
            for code, value in values.items()]


def labs(*groups):
    df = pd.DataFrame([r for g in groups for r in g])
    df["visit_num"] = df["visit_num"].astype("Int64")
    return df


ASCITES = pd.DataFrame({"usubjid": ["P1", "P1"], "visit_num": [0, 1], "study_day": [1, 8], "grade": [1, 1]})
SUBJECTS = pd.DataFrame({"usubjid": ["P1", "P2"], "age": [50, 60], "sex": ["M", "F"]})


def value(out, usubjid, study_day, paramcd):
    hit = out[(out["usubjid"] == usubjid) & (out["study_day"] == study_day) & (out["paramcd"] == paramcd)]
    return float(hit["value"].iloc[0]) if len(hit) == 1 else (None if hit.empty else "duplicate")


@pytest.fixture(scope="module")
def worked():
    return derive_parameters(labs(rows("P1", 0, 1, ASSESSMENT)), ASCITES, SUBJECTS)


@pytest.mark.parametrize("paramcd, expected", [
    # MELD(i) = 0.957 ln 2.5 + 0.378 ln 8 + 1.120 ln 2.6 + 0.643 = 3.376 -> 3.4 (OPTN: tenth first) -> MELD 34
    ("MELD", 34),
    # MELD-Na = 34 + 1.32 (137 - 130) - 0.033 x 34 x (137 - 130) = 35.386 -> 35
    ("MELDNA", 35),
    # MELD 3.0 (male) = 4.56 ln 8 + 0.82 x 7 - 0.24 x 7 ln 8 + 9.09 ln 2.6 + 11.14 ln 2.5 + 1.85 x 0.5
    #   - 1.83 x 0.5 ln 2.5 + 6 = 36.708 -> 37
    ("MELD3", 37),
    # Child-Pugh: bilirubin 8 mg/dL > 3 (3) + albumin 30 g/L in 28-35 (2) + INR 2.6 > 2.3 (3) + mild ascites (2)
    #   + HE grade 2 (2) = 12 -> class C
    ("CPSCORE", 12), ("CPCLASS", 3),
    # CLIF-C OF: bilirubin 6-<12 (2) + creatinine 2-<3.5 (2) + HE 1-2 (2) + INR >= 2.5 (3) + MAP < 70 (2)
    #   + SpO2/FiO2 214-357 (2) = 13; failures kidney and coagulation -> ACLF grade 2
    ("CLIFOF", 13), ("NOF", 2), ("ACLFGR", 2),
    # CLIF-C ACLF = 10 x (0.33 x 13 + 0.04 x 50 + 0.63 x ln 12 - 2) = 58.5549118937
    ("CLIFCACLF", 58.5549118937),
    # AARC: bilirubin 8 mg/dL < 15 (1) + HE 1-2 (2) + INR > 2.5 (3) + lactate 1.5-2.5 (2) + creatinine > 1.5 (3)
    #   = 11 -> grade III
    ("AARC", 11), ("AARCGR", 3),
    # The baseline assessment against its own baseline creatinine: no AKI
    ("AKISTAGE", 0),
])
def test_worked_assessment_gives_each_derived_value(worked, paramcd, expected):
    assert value(worked, "P1", 1, paramcd) == pytest.approx(expected, abs=1e-9)


def test_derived_rows_carry_the_assessment_and_the_registry_name_unit_without_limits_or_grades(worked):
    derived = worked[worked["paramcd"].isin(DERIVED_CODES)]
    assert sorted(derived["paramcd"]) == sorted(DERIVED_CODES)
    assert (derived["visit"] == "V0").all() and (derived["visit_num"] == 0).all()
    assert (derived["collected_on"] == DAY1).all()
    assert list(derived["param"]) == [BY_CODE[c].name for c in derived["paramcd"]]
    assert list(derived["unit"]) == [BY_CODE[c].unit for c in derived["paramcd"]]
    assert derived[["lower_limit", "upper_limit"]].isna().all(axis=None)
    assert derived[["toxgr_low", "toxgr_high"]].isna().all(axis=None)
    assert str(worked["toxgr_low"].dtype) == "Int64" and str(worked["visit_num"].dtype) == "Int64"


def test_female_sex_enters_meld3():
    out = derive_parameters(labs(rows("P2", 0, 1, ASSESSMENT)), ASCITES.iloc[:0], SUBJECTS)
    assert value(out, "P2", 1, "MELD3") == 38  # 36.708 + 1.33 = 38.038
    assert value(out, "P2", 1, "CPSCORE") is None  # no ascites assessment that day


def test_inputs_of_another_day_are_not_combined_but_an_unscheduled_record_of_the_same_day_is():
    he_next_day = {k: v for k, v in ASSESSMENT.items() if k != "HEGRADE"}
    out = derive_parameters(labs(rows("P1", 0, 1, he_next_day), rows("P1", 0, 2, {"HEGRADE": 2})), ASCITES, SUBJECTS)
    assert value(out, "P1", 1, "MELD") == 34 and value(out, "P1", 1, "CLIFOF") is None
    assert value(out, "P1", 2, "CLIFOF") is None and value(out, "P1", 2, "MELD") is None
    unscheduled = derive_parameters(labs(rows("P1", 1, 8, he_next_day), rows("P1", None, 8, {"HEGRADE": 2})),
                                    ASCITES, SUBJECTS)
    assert value(unscheduled, "P1", 8, "CLIFOF") is None  # visit W1 vs unscheduled: two assessments
    same = derive_parameters(labs(rows("P1", None, 8, he_next_day), rows("P1", None, 8, {"HEGRADE": 2})),
                             ASCITES, SUBJECTS)
    assert value(same, "P1", 8, "CLIFOF") == 13


def test_missing_map_spo2fio2_vasopressors_rrt_count_as_normal():
    core = {k: ASSESSMENT[k] for k in ("BILI", "CREAT", "HEGRADE", "INR", "WBC")}
    out = derive_parameters(labs(rows("P1", 0, 1, core)), ASCITES, SUBJECTS)
    # 2 + 2 + 2 + 3 + circulation 1 + respiration 1 = 11
    assert value(out, "P1", 1, "CLIFOF") == 11 and value(out, "P1", 1, "ACLFGR") == 2
    assert value(out, "P1", 1, "AARC") is None  # no lactate: AARC needs it


def test_renal_replacement_counts_as_dialysis_kidney_failure_and_aki_stage_3():
    on_rrt = {**ASSESSMENT, "CREAT": 100.0, "RRT": 1}
    out = derive_parameters(labs(rows("P1", 0, 1, ASSESSMENT), rows("P1", 1, 8, on_rrt)), ASCITES, SUBJECTS)
    assert value(out, "P1", 8, "AKISTAGE") == 3
    # MELD with creatinine set to 4.0 on dialysis: 0.957 ln 4 + 0.378 ln 8 + 1.120 ln 2.6 + 0.643 = 3.829 -> 38
    assert value(out, "P1", 8, "MELD") == 38


def test_aki_stage_against_the_visit_0_creatinine_and_clif_c_aclf_only_with_aclf():
    week1 = {**ASSESSMENT, "CREAT": 663.1}   # > 3 x 221
    week2 = {"BILI": 20.0, "CREAT": 60.0, "HEGRADE": 0, "INR": 1.0, "WBC": 6.0}  # recovered: no ACLF
    out = derive_parameters(labs(rows("P1", 0, 1, ASSESSMENT), rows("P1", 1, 8, week1), rows("P1", 2, 15, week2)),
                            ASCITES, SUBJECTS)
    assert value(out, "P1", 8, "AKISTAGE") == 3 and value(out, "P1", 15, "AKISTAGE") == 0
    assert value(out, "P1", 15, "ACLFGR") == 0 and value(out, "P1", 15, "CLIFCACLF") is None


def test_ctcae_grades_use_each_rows_limits_and_the_visit_0_baseline():
    # ALT baseline (visit 0) 400 U/L, abnormal (ULN 40): later 599 is < 1.5 x 400 (grade 0), 600 grade 1,
    # 2001 > 5 x 400 grade 3. Albumin 29 with LLN 35 is grade 2 low. PTA has no CTCAE term: no grade.
    table = labs(rows("P1", 0, 1, {"ALT": 400.0, "ALB": 29.0, "PTA": 30.0}), rows("P1", 1, 8, {"ALT": 599.0}),
                 rows("P1", 2, 15, {"ALT": 600.0}), rows("P1", 3, 29, {"ALT": 2001.0}))
    out = derive_parameters(table, ASCITES, SUBJECTS).set_index(["paramcd", "study_day"])
    assert [out.loc[("ALT", d), "toxgr_high"] for d in (1, 8, 15, 29)] == [0, 0, 1, 3]
    assert out.loc[("ALB", 1), "toxgr_low"] == 2 and pd.isna(out.loc[("ALB", 1), "toxgr_high"])
    assert pd.isna(out.loc[("PTA", 1), "toxgr_low"]) and pd.isna(out.loc[("PTA", 1), "toxgr_high"])


def test_earlier_derived_rows_and_grades_are_replaced_so_deriving_twice_changes_nothing(worked):
    delivered_meld = labs(rows("P1", 0, 1, ASSESSMENT), rows("P1", 0, 1, {"MELD": 99.0}))
    once = derive_parameters(delivered_meld, ASCITES, SUBJECTS)
    assert value(once, "P1", 1, "MELD") == 34
    twice = derive_parameters(once, ASCITES, SUBJECTS)
    pd.testing.assert_frame_equal(once, twice)
    pd.testing.assert_frame_equal(once, worked)


def test_a_callers_own_columns_are_kept_and_missing_on_derived_rows():
    table = labs(rows("P1", 0, 1, ASSESSMENT)).assign(_file="lb.xpt", _row=range(1, len(ASSESSMENT) + 1))
    out = derive_parameters(table, ASCITES, SUBJECTS)
    measured = ~out["paramcd"].isin(DERIVED_CODES)
    assert (out.loc[measured, "_file"] == "lb.xpt").all() and out.loc[~measured, "_file"].isna().all()
    assert list(out.loc[measured, "_row"]) == list(range(1, len(ASSESSMENT) + 1))
    assert out.loc[~measured, "_row"].isna().all()


def test_no_input_gives_the_table_back_with_grade_columns():
    out = derive_parameters(labs(rows("P1", 0, 1, {"AFP": 5.0})), ASCITES, SUBJECTS)
    assert list(out["paramcd"]) == ["AFP"] and out[["toxgr_low", "toxgr_high"]].isna().all(axis=None)


def test_missing_columns_are_refused_with_the_argument_named():
    with pytest.raises(ValueError, match=r"derive_parameters: argument ascites lacks column\(s\) \['grade'\]"):
        derive_parameters(labs(rows("P1", 0, 1, ASSESSMENT)), ASCITES.drop(columns="grade"), SUBJECTS)
