"""Data layer: checks across tables and the derived columns every importer shares.

After an importer has mapped its files: every record's subject must be a randomised subject, keys must
be unique, dates ordered (no death before randomisation or day 1), text free of NUL bytes, registry
labs within their physiologically possible range (domain.labs; registry unit, after conversion); then
last contact, the derived lab parameters and CTCAE grades (data.derived_parameters, as for the simulated
trial), baseline MELD and ascites grade, the visit table and the study row are derived the way the simulator
fills them (DESIGN §3: day 1 is the first dose).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from dashboard.data.derived_parameters import derive_parameters
from dashboard.data.importers.bundle import Bundle
from dashboard.data.importers.problems import Problems
from dashboard.domain.labs import BY_CODE, DERIVED_CODES

# Model keys: a second record with the same key is a duplicate delivery, not a repeat measurement.
KEYS = {
    "subjects": ("usubjid",),
    "lab_results": ("usubjid", "paramcd", "visit", "study_day"),
    "infusions": ("usubjid", "infusion_num"),
    "ascites": ("usubjid", "visit", "study_day"),
    "time_to_event": ("usubjid", "paramcd"),
    "adverse_events": ("usubjid", "_seq"),
}
# Delivered names of model columns an importer's Bundle.put() leaves unnamed, recognised by the name it
# gives a sibling column (LBTESTCD: SDTM, PARAMCD: ADaM). A stopgap until sdtm.py and adam.py name them.
_UNNAMED = {("lab_results", "value"): ("paramcd", {"LBTESTCD": "LBSTRESN", "PARAMCD": "AVAL"}),
            ("subjects", "death_on"): ("day1_on", {"TRTSDT": "DTHDT"})}
RECORD_DAYS = {"lab_results": "study_day", "infusions": "study_day", "ascites": "study_day",
               "adverse_events": "onset_day", "vital_signs": None, "time_to_event": None}


def check(bundle: Bundle, problems: Problems) -> None:
    """Subjects known, keys unique, dates ordered; problems name the delivered file, row and column."""
    subjects = bundle.tables.get("subjects")
    known = set(subjects["usubjid"].dropna()) if subjects is not None else set()
    for table, df in bundle.tables.items():
        if table != "subjects" and len(df) and subjects is not None:
            unknown = ~df["usubjid"].isin(known)
            _report(bundle, problems, table, df[unknown], "usubjid", df.loc[unknown, "usubjid"],
                    "a subject of the subjects file (DM/ADSL), randomised")
        key = [k for k in KEYS.get(table, ()) if k in df.columns]
        if key and len(df) and df[key].notna().any(axis=None):
            dup = df.duplicated(key, keep="first") & df[key].notna().all(axis=1)
            values = df.loc[dup, key].astype(str).agg(" / ".join, axis=1)
            _report(bundle, problems, table, df[dup], key[-1], values,
                    f"a unique {' + '.join(_source_column(bundle, table, k).lstrip('_') for k in key)} (duplicate record)")
    if subjects is not None and len(subjects):
        late = subjects["randomized_on"] > subjects["day1_on"]
        _report(bundle, problems, "subjects", subjects[late], "randomized_on", subjects.loc[late, "randomized_on"].dt.date,
                "a randomisation date on or before the first dose (day1_on)")
        _check_death(bundle, subjects, problems)
    aes = bundle.tables.get("adverse_events")
    if aes is not None and len(aes):
        backwards = aes["end_day"].notna() & aes["onset_day"].notna() & (aes["end_day"] < aes["onset_day"])
        _report(bundle, problems, "adverse_events", aes[backwards], "end_day", aes.loc[backwards, "end_day"],
                "an end on or after the onset")
    _check_labs(bundle, problems)
    for table, df in bundle.tables.items():
        _check_nul(bundle, problems, table, df)


def _check_death(bundle: Bundle, subjects: pd.DataFrame, problems: Problems) -> None:
    """A death is on or after randomisation and day 1 (the first dose)."""
    early = subjects["death_on"] < subjects[["randomized_on", "day1_on"]].max(axis=1)
    rand, day1 = (_source_column(bundle, "subjects", c) for c in ("randomized_on", "day1_on"))
    _report(bundle, problems, "subjects", subjects[early], "death_on", subjects.loc[early, "death_on"].dt.date,
            [f"a death date on or after randomisation ({rand} {r.date()}) and day 1, the first dose ({day1} {d.date()})"
             for r, d in subjects.loc[early, ["randomized_on", "day1_on"]].itertuples(index=False)])


def _check_labs(bundle: Bundle, problems: Problems) -> None:
    """Registry labs within their physiologically possible range (LabParameter.plausible)."""
    labs = bundle.tables.get("lab_results")
    if labs is None or not len(labs):
        return
    for code, rows in labs[labs["value"].notna()].groupby("paramcd"):
        p = BY_CODE.get(code)
        if p is None or p.plausible is None:
            continue
        bad = rows[~p.plausible.contains(rows["value"])]
        _report(bundle, problems, "lab_results", bad, "value", bad["value"],
                f"{p.name} ({code}) {p.plausible.describe(p.unit)}, the possible values after conversion to "
                f"the registry unit (anything else is a unit or entry error, docs/importing.md)")


def _check_nul(bundle: Bundle, problems: Problems, table: str, df: pd.DataFrame) -> None:
    """NUL bytes in text (subject ids above all) come from damaged or binary files; none is a value."""
    for col in df.columns:
        if str(col).startswith("_") or df[col].dtype != object:
            continue
        nul = df[col].map(lambda v: isinstance(v, str) and "\x00" in v).astype(bool)
        _report(bundle, problems, table, df[nul], col, df.loc[nul, col], "text without NUL bytes (\\x00)")


def _report(bundle, problems, table, rows, column, values, expected: str | list[str]) -> None:
    expected = [expected] * len(rows) if isinstance(expected, str) else expected
    for (file, row), value, wanted in zip(rows[["_file", "_row"]].itertuples(index=False), values, expected):
        problems.add(file, int(row), _source_column(bundle, table, column), value, wanted)


def _source_column(bundle: Bundle, table: str, column: str) -> str:
    named = bundle.columns.get(table, {}).get(column)
    if named:
        return named
    sibling, names = _UNNAMED.get((table, column), (None, {}))
    return names.get(bundle.source_column(table, sibling), column) if sibling else column


def finish(bundle: Bundle, cut: date, problems: Problems) -> dict[str, pd.DataFrame]:
    """The tables to write, with derived columns; ``_``-prefixed helper columns are dropped."""
    t = {k: v.copy() for k, v in bundle.tables.items()}
    subjects = t["subjects"]
    day1 = subjects.set_index("usubjid")["day1_on"]
    last = [subjects.set_index("usubjid")["_last_known"]]
    for table, day_col in RECORD_DAYS.items():
        if day_col and table in t and len(t[table]):
            df = t[table]
            last.append((df["usubjid"].map(day1) + pd.to_timedelta(df[day_col].astype(float) - 1, unit="D"))
                        .groupby(df["usubjid"]).max())
    latest = pd.concat(last, axis=1).max(axis=1)
    contact = subjects["usubjid"].map(latest).fillna(subjects["day1_on"])
    subjects["last_contact_on"] = subjects["death_on"].where(subjects["death_on"].notna(), contact)
    after = subjects["last_contact_on"] > pd.Timestamp(cut)
    if after.any():
        problems.warn(f"{int(after.sum())} subject(s) have data dated after the cut date {cut} "
                      f"(latest {subjects['last_contact_on'].max().date()}); kept as delivered")
    aes = t.get("adverse_events")
    if aes is not None and len(aes):
        fatal = aes[aes["outcome"].eq("FATAL")].sort_values("onset_day").drop_duplicates("usubjid")
        cause = fatal.set_index("usubjid")["term"]
        subjects["death_cause"] = subjects["death_cause"].fillna(
            subjects["usubjid"].map(cause).where(subjects["status"].eq("died")))
        if "ae_id" not in aes or aes["ae_id"].isna().any():
            aes = aes.sort_values(["usubjid", "onset_day", "term"], kind="stable").reset_index(drop=True)
            aes["ae_id"] = np.arange(1, len(aes) + 1)
        t["adverse_events"] = aes
    asc = t.get("ascites")
    base_asc = pd.Series(dtype="Int64")
    if asc is not None and len(asc):
        base_asc = asc[asc["study_day"] <= 1].sort_values("study_day").groupby("usubjid")["grade"].last()
    subjects["baseline_ascites_grade"] = subjects["usubjid"].map(base_asc).astype("Int64")
    t["visits"] = bundle.visits if bundle.visits is not None else _visits(t.get("lab_results"), t.get("ascites"))
    if "lab_results" in t:
        t["lab_results"] = _derive(t["lab_results"], asc, subjects, problems)
    subjects["baseline_meld"] = subjects["usubjid"].map(_baseline_meld(t.get("lab_results")))
    for name, df in t.items():
        t[name] = df[[c for c in df.columns if not str(c).startswith("_")]]
    return t


def _derive(labs: pd.DataFrame, ascites: pd.DataFrame | None, subjects: pd.DataFrame,
            problems: Problems) -> pd.DataFrame:
    """The delivered labs with the derived parameters and CTCAE grades; delivered records of a derived code
    (a site's own MELD) are replaced by the dashboard's derivation, with a warning."""
    delivered = labs["paramcd"].isin(DERIVED_CODES)
    if delivered.any():
        codes = ", ".join(sorted(labs.loc[delivered, "paramcd"].unique()))
        problems.warn(f"{int(delivered.sum())} delivered record(s) of derived parameters ({codes}) replaced by "
                      "the dashboard's own derivation (docs/data-model.md)")
    if ascites is None:
        ascites = pd.DataFrame(columns=["usubjid", "visit_num", "study_day", "grade"])
    return derive_parameters(labs, ascites, subjects)


def _baseline_meld(labs: pd.DataFrame | None) -> pd.Series:
    """The derived MELD of the last assessment on or before day 1 (baseline, DESIGN §3)."""
    if labs is None or not len(labs):
        return pd.Series(dtype=float)
    base = labs[labs["paramcd"].eq("MELD") & (labs["study_day"] <= 1)]
    return base.sort_values("study_day", kind="stable").groupby("usubjid")["value"].last()


def _visits(labs: pd.DataFrame | None, ascites: pd.DataFrame | None) -> pd.DataFrame:
    """Scheduled visits seen in the data: target day the planned day (VISITDY) or the median observed
    day, window the observed range of days."""
    frames = [df for df in (labs, ascites) if df is not None and len(df)]
    columns = ["visit", "visit_num", "target_day", "window_lo", "window_hi"]
    if not frames:
        return pd.DataFrame(columns=columns)
    cols = ["visit", "visit_num", "study_day", "_planned_day"]
    seen = pd.concat([f.reindex(columns=cols) for f in frames], ignore_index=True).dropna(subset=["visit_num", "study_day"])
    if seen.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for num, g in seen.groupby("visit_num"):
        planned = g["_planned_day"].dropna()
        days = g["study_day"].astype(float)
        rows.append({"visit": g["visit"].mode().iloc[0] if g["visit"].notna().any() else f"Visit {num}",
                     "visit_num": int(num),
                     "target_day": int(planned.mode().iloc[0]) if len(planned) else int(np.round(days.median())),
                     "window_lo": int(days.min()), "window_hi": int(days.max())})
    return pd.DataFrame(rows, columns=columns)
