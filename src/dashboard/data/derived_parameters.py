"""Data layer: the derived parameters of ``lab_results`` and its CTCAE grades, in one step for every cut.

The simulator and every importer call :func:`derive_parameters`, so a simulated and an imported cut carry
the same derived rows and grades. The formulas are domain functions (domain.meld, domain.liver_scores,
domain.ctcae); this module only matches their inputs and lays the results out as rows.

**Matching inputs.** A derived row is computed per *assessment*: one patient, visit and study day
(``usubjid`` + ``visit_num`` + ``study_day``; an unscheduled record, ``visit_num`` NULL, matches the other
unscheduled records of its day). Labs and bedside assessments (HEGRADE, MAP, VASOPRES, SPO2FIO2, RRT) of other days are not
carried over. The ascites grade comes from the ``ascites`` table at the same usubjid + visit_num +
study_day; age (CLIF-C ACLF) and sex (MELD 3.0) from ``subjects``. A derived row exists where its
required inputs do:

======================  ====================================================================
MELD, MELDNA, MELD3     BILI, INR, CREAT (RRT = 1 counts as dialysis); MELDNA + SODIUM; MELD3 + SODIUM, ALB, sex
CPSCORE, CPCLASS        BILI, ALB, INR, HEGRADE and the ascites grade
CLIFOF, NOF, ACLFGR     BILI, CREAT, HEGRADE, INR; MAP, VASOPRES, SPO2FIO2 and RRT missing count as normal
CLIFCACLF               CLIFOF inputs, WBC and age; only at assessments with ACLF (ACLFGR >= 1)
AARC, AARCGR            BILI, HEGRADE, INR, LACTATE, CREAT
AKISTAGE                CREAT and the patient's baseline CREAT (RRT = 1 is stage 3)
======================  ====================================================================

A missing MAP, vasopressor flag, SpO2/FiO2 or RRT flag counts as normal, as the CLIF consortium counts an
unmeasured organ variable; bilirubin, creatinine, INR and the HE grade are never assumed.

**Baseline** (AKI stage, CTCAE baseline-relative grades) is the dashboard's baseline for change from
baseline: the patient's visit-0 record of that lab, the latest by study day (``lab_aggregates.BASELINE_CTE``).

**CTCAE grades** ``toxgr_low`` / ``toxgr_high`` (ADaM ATOXGRL / ATOXGRH) are filled on every measured row
of a lab that CTCAE v5 grades in that direction (domain.ctcae.LOW / HIGH), from the row's own reference
limits; NULL elsewhere, on derived rows and where the grade needs a missing limit.

Rows of derived codes already in ``lab_results`` (an earlier derivation, or a delivery's own MELD) are
replaced, so deriving twice gives the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain import ctcae
from dashboard.domain import liver_scores as ls
from dashboard.domain.checks import require_columns
from dashboard.domain.labs import BY_CODE, DERIVED_CODES
from dashboard.domain.meld import meld, meld3, meld_na

KEY = ["usubjid", "visit_num", "study_day"]
INPUT_CODES = ("BILI", "INR", "CREAT", "SODIUM", "ALB", "WBC", "LACTATE",
               "HEGRADE", "MAP", "VASOPRES", "SPO2FIO2", "RRT")
LAB_COLUMNS = ["usubjid", "paramcd", "param", "unit", "visit", "visit_num", "study_day", "collected_on",
               "value", "lower_limit", "upper_limit"]
GRADE_COLUMNS = ["toxgr_low", "toxgr_high"]


def derive_parameters(lab_results: pd.DataFrame, ascites: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """``lab_results`` without earlier derived rows, plus the derived rows of every assessment, with
    ``toxgr_low`` and ``toxgr_high`` on every row (nullable integers 0-4). Other columns are kept; derived
    rows have no reference limits."""
    fn = "derive_parameters"
    require_columns(fn, lab_results, LAB_COLUMNS, arg="lab_results")
    require_columns(fn, ascites, KEY + ["grade"], arg="ascites")
    require_columns(fn, subjects, ["usubjid", "age", "sex"], arg="subjects")
    # Every step reads the lab codes as integers, so a 20 M-row table is hashed by code once; it is copied
    # once, by the final concat (pandas copies on drop, filter and column selection, so each is conditional).
    code, codes = pd.factorize(lab_results["paramcd"])
    earlier = np.isin(code, [i for i, c in enumerate(codes) if c in DERIVED_CODES])
    measured = lab_results
    if any(c in measured.columns for c in GRADE_COLUMNS):
        measured = measured.drop(columns=GRADE_COLUMNS, errors="ignore")
    if earlier.any():
        measured, code = measured[~earlier].reset_index(drop=True), code[~earlier]
    labs = _Labs(measured, code, list(codes))
    low, high = _toxicity_grades(labs)
    derived = _derived_rows(labs, ascites, subjects)
    out = pd.concat([measured, derived], ignore_index=True) if len(derived) else measured.copy()
    missing = np.full(len(derived), np.nan)
    out["toxgr_low"] = _nullable_integers(np.concatenate([low, missing]))
    out["toxgr_high"] = _nullable_integers(np.concatenate([high, missing]))
    return out


def _nullable_integers(grades: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(grades)
    return pd.arrays.IntegerArray(np.where(missing, 0, grades).astype(np.int64), missing)


class _Labs:
    """The measured rows with their paramcd as integer codes, and row positions by lab code."""

    def __init__(self, df: pd.DataFrame, code: np.ndarray, codes: list[str]):
        self.df, self.code, self.codes = df, code, codes

    def positions(self, paramcds) -> np.ndarray:
        wanted = [i for i, c in enumerate(self.codes) if c in set(paramcds)]
        return np.flatnonzero(np.isin(self.code, wanted))

    def column(self, name: str, at: np.ndarray) -> np.ndarray:
        return self.df[name].to_numpy()[at]


def _baselines(labs: _Labs, at: np.ndarray) -> pd.Series:
    """Each patient's baseline of the lab whose rows are ``at``: the visit-0 value, the latest by study day
    then value (as the SQL BASELINE_CTE); indexed by usubjid."""
    rows = pd.DataFrame({c: labs.column(c, at) for c in ("usubjid", "visit_num", "study_day", "value")})
    base = rows[rows["visit_num"].eq(0).fillna(False).to_numpy(dtype=bool)]
    return base.sort_values(["study_day", "value"], kind="stable").groupby("usubjid", sort=False)["value"].last()


def _toxicity_grades(labs: _Labs) -> tuple[np.ndarray, np.ndarray]:
    """CTCAE v5 ATOXGRL and ATOXGRH of every measured row (NaN: no grade)."""
    low = np.full(len(labs.df), np.nan)
    high = np.full(len(labs.df), np.nan)
    for paramcd in sorted(set(ctcae.LOW) | set(ctcae.HIGH)):
        at = labs.positions([paramcd])
        if not len(at):
            continue
        value, lln, uln = (labs.column(c, at).astype(float) for c in ("value", "lower_limit", "upper_limit"))
        baseline = pd.Series(labs.column("usubjid", at)).map(_baselines(labs, at)).to_numpy(dtype=float)
        for criteria, out in ((ctcae.LOW, low), (ctcae.HIGH, high)):
            if paramcd in criteria:
                out[at] = criteria[paramcd].grade(value, lln=lln, uln=uln, baseline=baseline)
    return low, high


def _assessments(labs: _Labs) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per assessment holding an input (KEY, and visit and collected_on of its first input row),
    and each input code's value per assessment (NaN where not measured)."""
    at = labs.positions(INPUT_CODES)
    if not len(at):
        return pd.DataFrame(columns=KEY + ["visit", "collected_on"]), {}
    # The key's three columns as one integer: hashing three object/nullable columns together is much slower.
    u, v, d = (pd.factorize(labs.column(c, at), use_na_sentinel=False)[0].astype(np.int64) for c in KEY)
    key, _ = pd.factorize((u * (v.max() + 1) + v) * (d.max() + 1) + d)
    first = at[pd.Series(np.arange(len(at))).groupby(key, sort=True).first().to_numpy()]
    assessments = pd.DataFrame({c: labs.df[c].take(first).reset_index(drop=True)
                                for c in KEY + ["visit", "collected_on"]})
    slot = {labs.codes.index(c): i for i, c in enumerate(INPUT_CODES) if c in labs.codes}
    column = pd.Series(labs.code[at]).map(slot).to_numpy(dtype=np.int64)
    wide = np.full((len(first), len(INPUT_CODES)), np.nan)
    wide[key, column] = labs.column("value", at).astype(float)
    return assessments, {c: wide[:, i] for i, c in enumerate(INPUT_CODES)}


def _derived_rows(labs: _Labs, ascites: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """The derived rows (LAB_COLUMNS) of every assessment, from the domain formulas."""
    assessments, x = _assessments(labs)
    if assessments.empty:
        return pd.DataFrame(columns=LAB_COLUMNS)
    people = subjects.drop_duplicates("usubjid").set_index("usubjid")
    age = assessments["usubjid"].map(people["age"]).to_numpy(dtype=float)
    female = assessments["usubjid"].map(people["sex"].map({"F": 1.0, "M": 0.0})).to_numpy(dtype=float)
    ascites_grade = _on_assessments(assessments, ascites, "grade")
    base_creat = assessments["usubjid"].map(_baselines(labs, labs.positions(["CREAT"]))).to_numpy(dtype=float)

    bili, inr, creat, he, rrt = x["BILI"], x["INR"], x["CREAT"], x["HEGRADE"], x["RRT"]
    dialysis = rrt == 1
    organs = ls.clif_organs(bili, creat, he, inr, x["MAP"], x["VASOPRES"], x["SPO2FIO2"], rrt)
    of_score = organs.score()
    aclf = ls.aclf_grade(organs, creat, he)
    cp = ls.child_pugh_score(bili, x["ALB"], inr, ascites_grade, he)
    aarc = ls.aarc_score(bili, he, inr, x["LACTATE"], creat)
    values = {
        "MELD": meld(bili, inr, creat, dialysis),
        "MELDNA": meld_na(bili, inr, creat, x["SODIUM"], dialysis),
        "MELD3": meld3(bili, inr, creat, x["SODIUM"], x["ALB"], female, dialysis),
        "CPSCORE": cp, "CPCLASS": ls.child_pugh_class(cp),
        "CLIFOF": of_score, "NOF": organs.failures(), "ACLFGR": aclf,
        "CLIFCACLF": ls.clif_c_aclf_score(of_score, age, x["WBC"], aclf),
        "AARC": aarc, "AARCGR": ls.aarc_grade(aarc),
        "AKISTAGE": ls.ica_aki_stage(creat, base_creat, rrt),
    }
    return _long(assessments, values)


def _on_assessments(assessments: pd.DataFrame, table: pd.DataFrame, column: str) -> np.ndarray:
    """``table[column]`` at each assessment (same usubjid, visit_num and study_day; NaN where none). The
    visit and day are compared as numbers: importers deliver them as nullable or float columns."""
    def keyed(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(**{c: df[c].astype("float64") for c in ("visit_num", "study_day")})
    right = keyed(table[KEY + [column]]).drop_duplicates(KEY, keep="last")
    return keyed(assessments[KEY]).merge(right, on=KEY, how="left")[column].to_numpy(dtype=float)


def _long(assessments: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per assessment and derived code with a value, in registry order."""
    codes = [c for c in DERIVED_CODES if c in values]
    present = [np.flatnonzero(~np.isnan(values[c])) for c in codes]
    at = np.concatenate(present)
    which = np.repeat(np.arange(len(codes)), [len(p) for p in present])

    def text(per_code: list[str]) -> np.ndarray:
        # An object array repeating one str per code: a numpy str array would make pandas build a new Python
        # str for each of millions of rows.
        return np.array(per_code, dtype=object)[which]

    out = {c: assessments[c].array.take(at) for c in assessments.columns}
    out.update(paramcd=text(codes), param=text([BY_CODE[c].name for c in codes]),
               unit=text([BY_CODE[c].unit for c in codes]),
               value=np.concatenate([values[c][p] for c, p in zip(codes, present)]),
               lower_limit=np.full(len(at), np.nan), upper_limit=np.full(len(at), np.nan))
    # copy=False: pandas would otherwise copy every object column into one block, a second pass over
    # millions of Python references that the concat with the measured rows repeats anyway.
    return pd.DataFrame({c: out[c] for c in LAB_COLUMNS}, copy=False)
