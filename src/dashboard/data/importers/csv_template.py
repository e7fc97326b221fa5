"""Data layer: the CSV template importer, for sites without CDISC (docs/importing.md).

One file per table, named like the table (subjects.csv, lab_results.csv, ...), columns named like the
data model. Column types and required columns come from :mod:`dashboard.data.schema` itself, so the
template cannot drift from the contract; the columns in ``DERIVED`` may be left out and are filled as
the simulator fills them. Parquet files with the same names and columns are read the same way.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.importers import cdisc
from dashboard.data.importers import convert as cv
from dashboard.data.importers.bundle import Bundle
from dashboard.data.importers.mapping import Mapping
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import Delivery, SourceTable
from dashboard.data.importers.units import VITAL_UNITS
from dashboard.data.importers.units import convert as convert_units
from dashboard.data.schema import SUBJECT_STATUSES, TABLES

FORMAT = "csv"
HELP = ("one CSV per table (subjects.csv required; lab_results, infusions, vital_signs, adverse_events, ascites, "
        "time_to_event, visits)")
FILES = ("subjects", "lab_results", "infusions", "vital_signs", "adverse_events", "ascites", "time_to_event", "visits")
# NOT NULL columns a file may omit, and what fills them.
DERIVED = {
    "subjects": {"randomized_on": "day1_on", "status": "from death_on/transplant_on/withdrawn_on, else 'on study'",
                 "last_contact_on": "latest date known for the patient"},
    "lab_results": {"param": "registry name or paramcd", "study_day": "from collected_on", "collected_on": "from study_day"},
    "infusions": {"infusion_num": "order of given_on", "study_day": "from given_on", "given_on": "from study_day"},
    "adverse_events": {"ae_id": "numbered 1..n", "soc": "'Not coded'", "related": "false", "infusion_related": "false",
                       "outcome": "UNKNOWN", "led_to_discontinuation": "false"},
    "time_to_event": {"param": "paramcd"},
}
BOOLEAN = {"Y": True, "N": False, "YES": True, "NO": False, "TRUE": True, "FALSE": False, "1": True, "0": False}
TERMS = {("subjects", "sex"): cdisc.SEX, ("subjects", "status"): {s: s for s in SUBJECT_STATUSES},
         ("adverse_events", "outcome"): {o: o for o in cdisc.AEOUT}}
RANGES = {("adverse_events", "grade"): (1, 5), ("ascites", "grade"): (0, 3), ("time_to_event", "event"): (0, 1)}


def schema(table: str) -> list[tuple[str, str, bool]]:
    """(column, type, required) of a data-model table, read from the schema DDL."""
    out = []
    for part in TABLES[table].split(","):
        words = part.split()
        out.append((words[0], words[1], "NOT NULL" in part or "PRIMARY KEY" in part))
    return out


def required_columns(table: str) -> list[str]:
    return [c for c, _, req in schema(table) if req and c not in DERIVED.get(table, {})]


def load(delivery: Delivery, mapping: Mapping, problems: Problems) -> Bundle:
    bundle = Bundle()
    if "subjects" not in delivery.stems():
        problems.add(f"{delivery.path.name}/subjects.csv", None, None, "no such file",
                     f"subjects.csv with columns {', '.join(required_columns('subjects'))}")
    for table in FILES:
        t = delivery.get(table)
        if t is None:
            continue
        t = SourceTable(t.name, t.df.rename(columns={c: c.strip().lower() for c in t.df.columns if c != "_row"}))
        need = required_columns(table) if table != "lab_results" else \
            [c for c in required_columns(table)] + [("study_day", "collected_on")]
        if table in ("infusions",):
            need = need + [("study_day", "given_on")]
        if not cv.require_columns(t, need, problems):
            continue
        if table in ("subjects",) and t.df.empty:
            problems.add(t.name, None, None, "a header but no data rows", "one row per randomised patient")
        df = _typed(table, t, problems)
        if table == "visits":
            bundle.visits = df
            continue
        bundle.put(table, df, t, {})
    _fill(bundle, mapping, problems, delivery)
    return bundle


def _typed(table: str, t: SourceTable, problems: Problems) -> pd.DataFrame:
    cols = {}
    for col, typ, req in schema(table):
        if col not in t.df.columns:
            continue
        # A blank unit is a unit question (INR has none), answered by the unit conversion, not here.
        req = req and col not in DERIVED.get(table, {}) and col != "unit"
        if (table, col) in TERMS:
            cols[col] = cv.terms(t, col, TERMS[(table, col)], problems, required=req)
        elif typ == "BOOLEAN":
            cols[col] = cv.terms(t, col, BOOLEAN, problems, required=req)
        elif typ == "DATE":
            cols[col] = cv.dates(t, col, problems, required=req)[0]
        elif typ == "INTEGER":
            cols[col] = cv.integers(t, col, problems, required=req)
            if (table, col) in RANGES:
                lo, hi = RANGES[(table, col)]
                bad = cols[col].notna() & ~cols[col].between(lo, hi)
                if bad.any():
                    problems.add_rows(t.name, t.df.loc[bad, "_row"], col, cols[col][bad], f"a whole number {lo}-{hi}")
        elif typ == "DOUBLE":
            cols[col] = cv.numbers(t, col, problems, required=req)
        else:
            cols[col] = cv.text(t, col, problems, required=req)
    return pd.DataFrame(cols, index=t.df.index).assign(_row=t.df["_row"])


def _fill(bundle: Bundle, mapping: Mapping, problems: Problems, delivery: Delivery) -> None:
    for table, df in bundle.tables.items():  # optional columns left out of a file are missing values
        for col, typ, _ in schema(table):
            if col not in df.columns and col not in DERIVED.get(table, {}):
                df[col] = pd.NaT if typ == "DATE" else (float("nan") if typ == "DOUBLE" else None)
    subjects = bundle.tables.get("subjects")
    if subjects is None:
        return
    subjects["randomized_on"] = subjects.get("randomized_on", subjects["day1_on"]).fillna(subjects["day1_on"])
    for col in ("death_on", "transplant_on", "withdrawn_on"):
        if col not in subjects:
            subjects[col] = pd.NaT
    derived_status = pd.Series("on study", index=subjects.index)
    derived_status[subjects["withdrawn_on"].notna()] = "withdrawn"
    derived_status[subjects["transplant_on"].notna()] = "transplanted"
    derived_status[subjects["death_on"].notna()] = "died"
    subjects["status"] = subjects["status"].fillna(derived_status) if "status" in subjects else derived_status
    subjects["_last_known"] = subjects["last_contact_on"] if "last_contact_on" in subjects else pd.NaT
    day1 = subjects.drop_duplicates("usubjid").set_index("usubjid")["day1_on"]
    for table, date_col in (("lab_results", "collected_on"), ("infusions", "given_on"), ("ascites", None)):
        df = bundle.tables.get(table)
        if df is None:
            continue
        d1 = df["usubjid"].map(day1)
        if date_col:
            if date_col not in df:
                df[date_col] = pd.NaT
            if "study_day" not in df:
                df["study_day"] = pd.NA
            df["study_day"] = df["study_day"].fillna(cv.study_day(df[date_col], d1))
            df[date_col] = df[date_col].fillna(cv.day_to_date(df["study_day"], d1))
    labs = bundle.tables.get("lab_results")
    if labs is not None:
        labs = labs.assign(raw_unit=labs["unit"], param=labs.get("param", pd.Series(None, index=labs.index)))
        labs["paramcd"] = labs["paramcd"].map(mapping.paramcd)
        for col in ("lower_limit", "upper_limit", "visit", "visit_num"):
            if col not in labs:
                labs[col] = None
        by_file = labs["_file"].iloc[0] if len(labs) else "lab_results.csv"
        labs = cdisc.finish_labs(SourceTable(by_file, labs), labs.drop(columns=["unit"]), "unit", mapping, problems)
        bundle.tables["lab_results"] = labs
    infusions = bundle.tables.get("infusions")
    if infusions is not None:
        if "infusion_num" not in infusions:
            infusions = infusions.sort_values(["usubjid", "given_on", "_row"], kind="stable")
            infusions["infusion_num"] = infusions.groupby("usubjid").cumcount() + 1
        bundle.tables["infusions"] = infusions
    vitals = bundle.tables.get("vital_signs")
    if vitals is not None:
        unit, factor, offset, bad = convert_units(vitals["paramcd"], vitals["unit"], mapping.units, targets=VITAL_UNITS)
        if bad.any():
            problems.add_rows(vitals["_file"].iloc[0], vitals.loc[bad, "_row"], "unit", vitals.loc[bad, "unit"].fillna("(blank)"),
                              "a known vital-sign unit (C, F, kg, cm, mmHg, beats/min...) or a [[units]] rule")
        bundle.tables["vital_signs"] = vitals.assign(unit=unit, value=(vitals["value"] * factor + offset).round(10))
    aes = bundle.tables.get("adverse_events")
    if aes is not None:
        defaults = {"soc": "Not coded", "related": False, "infusion_related": False, "outcome": "UNKNOWN",
                    "led_to_discontinuation": False}
        for col, value in defaults.items():
            aes[col] = aes[col].fillna(value) if col in aes else value
        if "ae_id" in aes:
            aes["_seq"] = aes["ae_id"]
            bundle.columns.setdefault("adverse_events", {})["_seq"] = "ae_id"
    tte = bundle.tables.get("time_to_event")
    if tte is not None:
        tte["param"] = tte["param"].fillna(tte["paramcd"]) if "param" in tte else tte["paramcd"]
