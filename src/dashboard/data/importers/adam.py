"""Data layer: the ADaM importer (ADSL, ADLB*, ADAE, ADTTE, ADVS).

ADSL gives the subjects (arm TRT01P, day 1 = TRTSDT, status from DCDECOD, death DTHDT); ADLB* the
labs (AVAL in the unit of AVALU or of PARAM's "(unit)" suffix, ranges A1LO/A1HI or ANRLO/ANRHI);
ADTTE the time-to-event rows (event = 1 - CNSR for CNSR 0/1, any CNSR > 0 censored). Helper parameters
(PARAMCD starting with "_"), derived records (DTYPE) and the repeats of a record under a derived
analysis visit (pilot "End of Treatment") are not lab values and are skipped.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.importers import ascites as ascites_reader
from dashboard.data.importers import cdisc
from dashboard.data.importers import convert as cv
from dashboard.data.importers.bundle import Bundle
from dashboard.data.importers.mapping import Mapping
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import Delivery, SourceTable
from dashboard.data.importers.units import VITAL_UNITS
from dashboard.data.importers.units import convert as convert_units

FORMAT = "adam"
HELP = "ADaM datasets adsl, adlb* (not adlbhy), adae, adtte, advs; adsl is required"
NOT_LAB_FILES = ("adlbhy",)  # Hy's-law criteria, not lab values


def load(delivery: Delivery, mapping: Mapping, problems: Problems) -> Bundle:
    bundle = Bundle()
    adsl = delivery.get(mapping.file("adsl"))
    if adsl is None:
        if mapping.file("adsl") not in delivery.stems():
            problems.add(f"{delivery.path.name}/{mapping.file('adsl')}.xpt", None, None, "no such file",
                         f"an ADaM ADSL file (found: {', '.join(delivery.stems()) or 'nothing'})")
        return bundle
    adsl = cdisc.upper(adsl)
    screen_failures = _subjects(bundle, adsl, mapping, problems)
    subjects = bundle.tables.get("subjects")
    day1 = subjects.set_index("usubjid")["day1_on"] if subjects is not None else pd.Series(dtype="datetime64[ns]")

    def get(stem: str) -> SourceTable | None:
        """The file's records of randomised subjects (screen failures skipped, subjects not in ADSL reported)."""
        t = delivery.get(stem)
        return None if t is None else _keep(cdisc.subjects_in(adsl, cdisc.upper(t), problems), screen_failures)

    lab_stems = [mapping.file("adlb")] if "adlb" in mapping.files else \
        [s for s in delivery.stems() if s.startswith("adlb") and s not in NOT_LAB_FILES]
    for stem in lab_stems:
        if (t := get(stem)) is not None:
            _labs(bundle, t, day1, mapping, problems)
    if (t := get(mapping.file("adae"))) is not None:
        _adverse_events(bundle, t, day1, problems)
    if (t := get(mapping.file("adtte"))) is not None:
        _time_to_event(bundle, t, problems)
    if (t := get(mapping.file("advs"))) is not None:
        _vitals(bundle, t, mapping, problems)
        _mean_arterial_pressure(bundle, t, day1, mapping)
    ascites_reader.load(bundle, delivery, mapping, day1, problems, screen_failures)
    return bundle


def _keep(t: SourceTable, screen_failures: set[str]) -> SourceTable:
    return cdisc.subset(t, ~t.df.get("USUBJID", pd.Series(index=t.df.index, dtype=object)).isin(screen_failures))


def _subjects(bundle: Bundle, adsl: SourceTable, mapping: Mapping, problems: Problems) -> set[str]:
    if not cv.require_columns(adsl, ["USUBJID", "SITEID", ("TRT01P", "ARM"), "TRTSDT"], problems):
        return set()
    arm_col = cv.first_column(adsl, "TRT01P", "ARM") or "TRT01P"
    rand = cdisc.randomised(adsl, arm_col, "ARMCD")
    screen_failures = set(adsl.df.loc[~rand, "USUBJID"].dropna())
    t = cdisc.subset(adsl, rand)
    bundle.study_id = next(iter(t.df["STUDYID"].dropna()), None) if "STUDYID" in t.df.columns else None
    day1, _ = cv.dates(t, "TRTSDT", problems, required=True)
    rand_col = mapping.subjects.get("randomized_on") or cv.first_column(t, "RANDDT")
    randomized_on, _ = cv.dates(t, rand_col, problems)
    death_on, _ = cv.dates(t, "DTHDT", problems)
    ends = [cv.dates(t, c, problems)[0] for c in ("LSTALVDT", "RFENDT", "TRTEDT", "EOSDT") if c in t.df.columns]
    decod = cv.text(t, cv.first_column(t, "DCDECOD", "DCSREAS"), problems).str.upper()
    status = cdisc.status_of(decod, mapping).fillna("on study")
    died = death_on.notna() | cv.text(t, "DTHFL", problems).eq("Y") | status.eq("died")
    rfendt = cv.dates(t, "RFENDT", problems)[0]
    fallback = died & death_on.isna() & rfendt.notna()
    if fallback.any():
        problems.warn(f"{adsl.name}: no DTHDT; death date of {int(fallback.sum())} subject(s) taken from RFENDT")
        death_on = death_on.fillna(rfendt.where(fallback))
    last_known = pd.concat(ends, axis=1).max(axis=1) if ends else pd.Series(pd.NaT, index=t.df.index)
    df = pd.DataFrame({
        "usubjid": cv.text(t, "USUBJID", problems, required=True),
        "site_id": cv.text(t, "SITEID", problems, required=True),
        "arm": cv.text(t, arm_col, problems, required=True),
        "randomized_on": randomized_on.fillna(day1), "day1_on": day1,
        "age": cv.integers(t, "AGE", problems),
        "sex": cv.terms(t, "SEX" if "SEX" in t.df.columns else None, cdisc.SEX, problems),
        "weight_kg": cv.numbers(t, mapping.subjects.get("weight_kg", "WEIGHTBL"), problems),
        "etiology": cv.text(t, mapping.subjects.get("etiology"), problems),
        "lf_type": cv.text(t, mapping.subjects.get("lf_type"), problems),
        "status": status.where(~died, "died"), "death_on": death_on, "death_cause": None,
        "transplant_on": pd.NaT, "withdrawn_on": rfendt.where(status.eq("withdrawn")),
        "_last_known": last_known, "_row": t.df["_row"],
    })
    bundle.put("subjects", df, adsl, {"usubjid": "USUBJID", "site_id": "SITEID", "arm": arm_col,
                                      "day1_on": "TRTSDT", "randomized_on": rand_col or "TRTSDT"})
    return screen_failures


def _days(t: SourceTable, day1: pd.Series, problems: Problems, date_col: str, dy_col: str):
    on, _ = cv.dates(t, date_col, problems)
    d1 = t.df["USUBJID"].map(day1)
    day = cv.study_day(on, d1).fillna(cv.cdisc_day_to_model(cv.numbers(t, dy_col, problems)))
    return on.fillna(cv.day_to_date(day, d1)), day


def _labs(bundle, t, day1, mapping, problems) -> None:
    if not cv.require_columns(t, ["USUBJID", "PARAMCD", "PARAM", "AVAL", ("ADT", "ADY")], problems):
        return
    helper = t.df["PARAMCD"].astype(str).str.startswith("_")
    derived = t.df["DTYPE"].notna() if "DTYPE" in t.df.columns else pd.Series(False, index=t.df.index)
    value = cv.numbers(t, "AVAL", problems)
    keep = ~helper & ~derived & value.notna()
    t = cdisc.subset(t, keep)
    value = value[keep].reset_index(drop=True)
    on, day = _days(t, day1, problems, "ADT", "ADY")
    name, unit_in_param = cdisc.split_param_unit(cv.text(t, "PARAM", problems))
    unit_col = "AVALU" if "AVALU" in t.df.columns else "PARAM"
    visit = cv.text(t, "AVISIT", problems)
    visit = visit.where(~visit.isin([".", None]), cv.text(t, "VISIT", problems))
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "paramcd": t.df["PARAMCD"].map(mapping.paramcd), "param": name,
        "raw_unit": cv.text(t, "AVALU", problems) if unit_col == "AVALU" else unit_in_param, "value": value,
        "lower_limit": cv.numbers(t, cv.first_column(t, "A1LO", "ANRLO"), problems),
        "upper_limit": cv.numbers(t, cv.first_column(t, "A1HI", "ANRHI"), problems),
        "visit": visit, "visit_num": cdisc.as_visit_num(t.df.get("AVISITN", pd.Series(index=t.df.index, dtype=float))),
        "collected_on": on, "study_day": day, "_row": t.df["_row"],
        "_source_key": t.df["LBSEQ"] if "LBSEQ" in t.df.columns else on.astype(str) + "|" + value.astype(str),
    })
    # One source record appears again under a derived analysis visit (pilot AVISITN 99 "End of Treatment").
    repeat = df.sort_values(["visit_num", "_row"], na_position="last").duplicated(["usubjid", "paramcd", "_source_key"])
    repeat = repeat.reindex(df.index)
    if repeat.any():
        problems.warn(f"{t.name}: {int(repeat.sum())} repeat(s) of a record under a derived analysis visit skipped")
    skipped = int(helper.sum()) + int(derived.sum())
    if skipped:
        problems.warn(f"{t.name}: {skipped} helper-parameter or derived (DTYPE) record(s) skipped")
    bundle.put("lab_results", cdisc.finish_labs(t, df[~repeat].drop(columns="_source_key"), unit_col, mapping, problems), t,
               {"usubjid": "USUBJID", "paramcd": "PARAMCD", "visit": "AVISIT", "study_day": "ADY"})


def _adverse_events(bundle, t, day1, problems) -> None:
    if not cv.require_columns(t, ["USUBJID", ("AEDECOD", "AETERM"), "AESER", ("ATOXGR", "AETOXGR", "AESEV"),
                                  ("ASTDT", "ASTDY")], problems):
        return
    start, onset = _days(t, day1, problems, "ASTDT", "ASTDY")
    _, end_day = _days(t, day1, problems, "AENDT", "AENDY")
    no_start = onset.isna()
    if no_start.any():
        problems.warn(f"{t.name}: {int(no_start.sum())} adverse event(s) without ASTDT/ASTDY skipped "
                      "(ADaM left their partial start dates unimputed)")
    common = cdisc.ae_common(t, problems)
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], **common,
        "grade": cdisc.ae_grade(t, cv.first_column(t, "ATOXGR", "AETOXGR"), problems, common["outcome"].eq("FATAL")),
        "infusion_related": False, "infusion_num": pd.NA, "onset_hours_after": float("nan"),
        "onset_day": onset, "end_day": end_day, "_row": t.df["_row"], "_seq": cv.numbers(t, "AESEQ", problems),
    })
    bundle.put("adverse_events", df[~no_start], t, {"usubjid": "USUBJID", "onset_day": "ASTDY", "end_day": "AENDY",
                                                    "ae_id": "AESEQ", "_seq": "AESEQ"})


def _time_to_event(bundle, t, problems) -> None:
    if not cv.require_columns(t, ["USUBJID", "PARAMCD", "AVAL", "CNSR"], problems):
        return
    t = cdisc.subset(t, ~t.df["PARAMCD"].astype(str).str.startswith("_"))
    aval = cv.numbers(t, "AVAL", problems, required=True)
    negative = aval < 0
    if negative.any():
        problems.add_rows(t.name, t.df.loc[negative, "_row"], "AVAL", aval[negative], "a time of 0 days or more")
    cnsr = cv.integers(t, "CNSR", problems, required=True)
    bad = cnsr.notna() & (cnsr < 0)
    if bad.any():
        problems.add_rows(t.name, t.df.loc[bad, "_row"], "CNSR", cnsr[bad], "0 (event) or a positive censoring code")
    event = (cnsr == 0).astype("Int64")
    reason = cv.text(t, cv.first_column(t, "EVNTDESC", "CNSDTDSC"), problems)
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "paramcd": cv.text(t, "PARAMCD", problems, required=True),
        "param": cv.text(t, "PARAM", problems).fillna(t.df["PARAMCD"]), "time_days": aval, "event": event,
        "censor_reason": reason.where(event == 0), "_row": t.df["_row"],
    })
    bundle.put("time_to_event", df, t, {"usubjid": "USUBJID", "paramcd": "PARAMCD", "time_days": "AVAL"})


def _mean_arterial_pressure(bundle, t, day1, mapping) -> None:
    """ADVS PARAMCD MAP records also as the lab MAP (an input of the CLIF-C circulation score): the lowest of
    each patient's analysis visit and day (AVISIT/AVISITN as delivered, like the ADLB* labs)."""
    if not {"PARAMCD", "AVAL", "USUBJID"} <= set(t.df.columns):
        return
    t = cdisc.subset(t, t.df["PARAMCD"].astype(object).eq("MAP").fillna(False).astype(bool))
    if t.df.empty:
        return
    quiet = Problems()  # the vital signs report these records' problems
    on, day = _days(t, day1, quiet, "ADT", "ADY")
    name, unit_in_param = cdisc.split_param_unit(cv.text(t, "PARAM", quiet))
    unit_col = "AVALU" if "AVALU" in t.df.columns else "PARAM"
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "paramcd": "MAP", "param": name,
        "raw_unit": cv.text(t, "AVALU", quiet) if unit_col == "AVALU" else unit_in_param,
        "value": cv.numbers(t, "AVAL", quiet), "lower_limit": float("nan"), "upper_limit": float("nan"),
        "visit": cv.text(t, "AVISIT", quiet),
        "visit_num": cdisc.as_visit_num(t.df.get("AVISITN", pd.Series(index=t.df.index, dtype=float))),
        "collected_on": on, "study_day": day, "_row": t.df["_row"],
    })
    bundle.put("lab_results", cdisc.lowest_of_the_day(t, df, unit_col, mapping), t, {})


def _vitals(bundle, t, mapping, problems) -> None:
    if not cv.require_columns(t, ["USUBJID", "PARAMCD", "AVAL"], problems):
        return
    value = cv.numbers(t, "AVAL", problems)
    t = cdisc.subset(t, value.notna() & ~t.df["PARAMCD"].astype(str).str.startswith("_"))
    name, unit_in_param = cdisc.split_param_unit(cv.text(t, "PARAM", problems))
    raw_unit = cv.text(t, "AVALU", problems) if "AVALU" in t.df.columns else unit_in_param
    paramcd = t.df["PARAMCD"].astype(str)
    unit, factor, offset, bad = convert_units(paramcd, raw_unit, mapping.units, targets=VITAL_UNITS)
    if bad.any():
        problems.add_rows(t.name, t.df.loc[bad, "_row"], "AVALU" if "AVALU" in t.df.columns else "PARAM",
                          raw_unit[bad].fillna("(blank)"), "a known vital-sign unit or a [[units]] rule")
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "infusion_num": pd.NA,
        "timepoint": cv.text(t, "ATPT", problems).fillna(cv.text(t, "AVISIT", problems)),
        "hours_after": float("nan"), "paramcd": paramcd,
        "value": (cv.numbers(t, "AVAL", problems) * factor + offset).round(10), "unit": unit, "_row": t.df["_row"],
    })
    bundle.put("vital_signs", df, t, {"usubjid": "USUBJID", "paramcd": "PARAMCD"})
