"""Data layer: CDISC rules shared by the SDTM and ADaM importers (domain.md §8).

Controlled terms (SEX, AESER, AESEV, AEREL, AEOUT, DSDECOD), screen-failure arms, the status a
disposition means, and the conversion of lab records to registry units with per-record ranges.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dashboard.data.importers import convert as cv
from dashboard.data.importers.mapping import Mapping
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import SourceTable
from dashboard.data.importers.units import convert as convert_units
from dashboard.data.importers.units import expected_units
from dashboard.domain.labs import BY_CODE

NOT_RANDOMISED = {"SCREEN FAILURE", "SCRNFAIL", "NOT ASSIGNED", "NOTASSGN", "NOT RANDOMIZED", "NOT RANDOMISED"}
SEX = {"M": "M", "F": "F", "U": "U", "UNDIFFERENTIATED": "U"}
YES_NO = {"Y": True, "N": False}
AESEV = {"MILD": 1, "MODERATE": 2, "SEVERE": 3}
# AEREL is sponsor-defined in SDTM; these are the terms seen in practice (the pilot uses the 4-level scale).
AEREL = {"Y": True, "N": False, "RELATED": True, "NOT RELATED": False, "DEFINITE": True, "DEFINITELY RELATED": True,
         "PROBABLE": True, "PROBABLY RELATED": True, "POSSIBLE": True, "POSSIBLY RELATED": True,
         "UNLIKELY": False, "UNLIKELY RELATED": False, "REMOTE": False, "NONE": False, "UNRELATED": False}
AEOUT = ("RECOVERED/RESOLVED", "RECOVERING/RESOLVING", "NOT RECOVERED/NOT RESOLVED",
         "RECOVERED/RESOLVED WITH SEQUELAE", "FATAL", "UNKNOWN")
DISPOSITION = {"COMPLETED": "completed", "DEATH": "died", "LOST TO FOLLOW-UP": "lost to follow-up",
               "LIVER TRANSPLANT": "transplanted", "TRANSPLANT": "transplanted"}
NOT_DISPOSITIONS = {"SCREEN FAILURE", "INFORMED CONSENT OBTAINED", "RANDOMIZED", "RANDOMISED"}
UNIT_IN_PARAM = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")


def randomised(t: SourceTable, arm_col: str, armcd_col: str | None) -> pd.Series:
    """True for subjects with a real arm (screen failures and not-assigned are dropped)."""
    arm = t.df[arm_col].astype(object).map(lambda v: str(v).upper() if v is not None else None)
    armcd = t.df[armcd_col].astype(object).map(lambda v: str(v).upper() if v is not None else None) \
        if armcd_col and armcd_col in t.df.columns else pd.Series(None, index=t.df.index)
    return arm.notna() & ~arm.isin(NOT_RANDOMISED) & ~armcd.isin(NOT_RANDOMISED)


def subjects_in(subjects: SourceTable, t: SourceTable | None, problems: Problems) -> SourceTable | None:
    """``t`` without records of subjects missing from the subjects file (DM/ADSL), reported once for the
    file with both names and the first such record: a cut-short subjects file, or files of two deliveries."""
    if t is None or "USUBJID" not in t.df.columns or "USUBJID" not in subjects.df.columns:
        return t
    missing = t.df["USUBJID"].notna() & ~t.df["USUBJID"].isin(set(subjects.df["USUBJID"].dropna()))
    if missing.any():
        first = t.df[missing].iloc[0]
        problems.add(t.name, int(first["_row"]), "USUBJID", first["USUBJID"],
                     f"a subject of {subjects.name}: {t.df.loc[missing, 'USUBJID'].nunique()} subject(s) of {t.name} "
                     f"are not in {subjects.name} (is {subjects.name} cut short, or from another delivery?)")
    return subset(t, ~missing)


def subset(t: SourceTable, mask: pd.Series) -> SourceTable:
    return SourceTable(t.name, t.df[mask].reset_index(drop=True))


def status_of(decod: pd.Series, mapping: Mapping) -> pd.Series:
    """Subject status for disposition terms; other reasons for leaving (adverse event, withdrawal by
    subject, physician decision, protocol violation...) all mean 'withdrawn'."""
    table = {**DISPOSITION, **mapping.disposition}
    return decod.map(lambda v: None if v is None else table.get(str(v).upper(), "withdrawn"))


def upper(t: SourceTable) -> SourceTable:
    """CDISC variable names are upper case; a CSV delivery may not be."""
    return SourceTable(t.name, t.df.rename(columns={c: c.upper() for c in t.df.columns if c != "_row"}))


def split_param_unit(param: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ADaM PARAM 'Albumin (g/L)' -> ('Albumin', 'g/L') when no AVALU is delivered."""
    parts = param.map(lambda v: UNIT_IN_PARAM.match(v) if isinstance(v, str) else None)
    name = pd.Series([m.group(1) if m else v for m, v in zip(parts, param)], index=param.index, dtype=object)
    unit = pd.Series([m.group(2) if m else None for m in parts], index=param.index, dtype=object)
    return name, unit


def finish_labs(t: SourceTable, df: pd.DataFrame, unit_col: str, mapping: Mapping, problems: Problems) -> pd.DataFrame:
    """Convert values and ranges to registry units; ``df`` has usubjid, paramcd, param, raw_unit, value,
    lower_limit, upper_limit, visit, visit_num, collected_on, study_day, _row."""
    unit, factor, offset, bad = convert_units(df["paramcd"], df["raw_unit"], mapping.units)
    if bad.any():
        for (code, raw), rows in df[bad].groupby(["paramcd", df.loc[bad, "raw_unit"].fillna("")])["_row"]:
            problems.add_rows(t.name, rows, unit_col, [raw or "(blank)"] * len(rows),
                              f"a unit convertible for {code}: {expected_units(code)}")
    out = df.assign(unit=unit)
    for col in ("value", "lower_limit", "upper_limit"):
        out[col] = (df[col] * factor + offset).round(10)
    out["param"] = [BY_CODE[c].name if c in BY_CODE else (p or c) for c, p in zip(out["paramcd"], out["param"])]
    return out.drop(columns=["raw_unit"])


def lowest_of_the_day(t: SourceTable, df: pd.DataFrame, unit_col: str, mapping: Mapping) -> pd.DataFrame:
    """Vital-sign records (``df`` in the :func:`finish_labs` layout) as lab rows: the lowest value per
    patient, visit and study day, converted to the registry unit. For the mean arterial pressure, where the
    lowest of the day is the one the CLIF-C circulation score grades. Values, units and dates are checked
    with the vital signs, so records that fail them are left out here without a second problem."""
    df = df[df["value"].notna() & df["study_day"].notna()]
    df = df.sort_values(["value", "_row"], kind="stable").drop_duplicates(["usubjid", "visit", "study_day"])
    out = finish_labs(t, df.sort_values("_row"), unit_col, mapping, Problems())
    return out[out["value"].notna()]


def ae_grade(t: SourceTable, toxgr_col: str | None, problems: Problems, fatal: pd.Series) -> pd.Series:
    """AETOXGR (1-5) when delivered, else AESEV MILD/MODERATE/SEVERE -> 1/2/3; a fatal outcome is grade 5."""
    if toxgr_col:
        grade = cv.integers(t, toxgr_col, problems, required=True)
        out_of_range = grade.notna() & ~grade.isin([1, 2, 3, 4, 5])
        if out_of_range.any():
            problems.add_rows(t.name, t.df.loc[out_of_range, "_row"], toxgr_col, grade[out_of_range], "a grade 1-5")
    else:
        grade = cv.terms(t, "AESEV", AESEV, problems, required=True).astype("Int64")
    return grade.where(~fatal, 5)


def ae_common(t: SourceTable, problems: Problems) -> dict[str, pd.Series]:
    """term, soc, serious, related, outcome, led_to_discontinuation from an AE/ADAE table."""
    term = cv.text(t, cv.first_column(t, "AEDECOD", "AETERM") or "AETERM", problems, required=True)
    soc = cv.text(t, cv.first_column(t, "AEBODSYS", "AESOC"), problems).fillna("Not coded")
    outcome = cv.terms(t, "AEOUT" if "AEOUT" in t.df.columns else None, {o: o for o in AEOUT}, problems,
                       default="UNKNOWN")
    action = cv.text(t, "AEACN", problems).str.upper()
    related = cv.terms(t, "AEREL" if "AEREL" in t.df.columns else None, AEREL, problems, default=False)
    if "AEREL" in t.df.columns and t.df["AEREL"].isna().any():
        problems.warn(f"{t.name}: {int(t.df['AEREL'].isna().sum())} adverse event(s) without AEREL counted as not related")
    return {
        "term": term, "soc": soc,
        "serious": cv.terms(t, "AESER", YES_NO, problems, required=True),
        "related": related.astype(bool), "outcome": outcome,
        "led_to_discontinuation": action.eq("DRUG WITHDRAWN").fillna(False).astype(bool),
    }


def as_visit_num(values: pd.Series) -> pd.Series:
    """Whole visit numbers; fractional CDISC VISITNUM (unscheduled 1.1) has no scheduled visit."""
    v = pd.to_numeric(values, errors="coerce")
    return v.where(v == np.round(v)).round().astype("Int64")
