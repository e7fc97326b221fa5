"""Data layer: the SDTM importer (DM, DS, EX, LB, VS, AE; ascites from the mapping file's domain).

DM gives the subjects (screen failures dropped) and day 1 = RFXSTDTC; DS the status; LB the labs in
standard units (LBSTRESN/LBSTRESU, ranges LBSTNRLO/HI) converted to the registry's SI units; EX the
infusions (EXTRT/EXDOSE go only to the arm-revealing product/dose columns); VS the vital signs; AE
the adverse events. Character lab results (LBSTRESN blank) are not values and are skipped.
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

BASELINE_VISIT = "Baseline"

FORMAT = "sdtm"
HELP = "SDTM domains dm, ds, ex, lb, vs, ae (.xpt, .csv or .parquet); dm is required"
DOMAINS = ("dm", "ds", "ex", "lb", "vs", "ae")


def load(delivery: Delivery, mapping: Mapping, problems: Problems) -> Bundle:
    bundle = Bundle()
    get = {d: (cdisc.upper(t) if (t := delivery.get(mapping.file(d))) else None) for d in DOMAINS}
    if get["dm"] is None:
        if mapping.file("dm") not in delivery.stems():
            problems.add(f"{delivery.path.name}/{mapping.file('dm')}.xpt", None, None, "no such file",
                         f"an SDTM DM file (found: {', '.join(delivery.stems()) or 'nothing'})")
        return bundle
    get = {d: t if d == "dm" else cdisc.subjects_in(get["dm"], t, problems) for d, t in get.items()}
    screen_failures = _subjects(bundle, get["dm"], get["ds"], get["vs"], mapping, problems)
    day1 = (bundle.tables["subjects"].set_index("usubjid")["day1_on"] if "subjects" in bundle.tables
            else pd.Series(dtype="datetime64[ns]"))

    def keep(t: SourceTable | None) -> SourceTable | None:
        if t is None or "USUBJID" not in t.df.columns:
            return t
        drop = t.df["USUBJID"].isin(screen_failures)
        if drop.any():
            problems.warn(f"{t.name}: {int(drop.sum())} record(s) of screen failures skipped")
        return cdisc.subset(t, ~drop)

    if get["lb"] is not None:
        _labs(bundle, keep(get["lb"]), day1, mapping, problems)
    if get["ex"] is not None:
        _infusions(bundle, keep(get["ex"]), day1, problems)
    if get["vs"] is not None:
        vs = keep(get["vs"])
        _vitals(bundle, vs, day1, mapping, problems)
        _mean_arterial_pressure(bundle, vs, day1, mapping)
    if get["ae"] is not None:
        _adverse_events(bundle, keep(get["ae"]), day1, problems)
    ascites_reader.load(bundle, delivery, mapping, day1, problems, screen_failures)
    return bundle


def _subjects(bundle: Bundle, dm: SourceTable, ds: SourceTable | None, vs: SourceTable | None,
              mapping: Mapping, problems: Problems) -> set[str]:
    if not cv.require_columns(dm, ["USUBJID", "SITEID", "ARM", ("RFXSTDTC", "RFSTDTC")], problems):
        return set()
    rand = cdisc.randomised(dm, "ARM", "ARMCD")
    screen_failures = set(dm.df.loc[~rand, "USUBJID"].dropna())
    t = cdisc.subset(dm, rand)
    bundle.study_id = next(iter(t.df["STUDYID"].dropna()), None) if "STUDYID" in t.df.columns else None
    day1_col = cv.first_column(t, "RFXSTDTC", "RFSTDTC") or "RFXSTDTC"
    day1, _ = cv.dates(t, day1_col, problems, required=True)
    rand_col = mapping.subjects.get("randomized_on") or cv.first_column(t, "RFSTDTC")
    randomized_on, _ = cv.dates(t, rand_col, problems)
    death_on, _ = cv.dates(t, "DTHDTC", problems)
    ends = [cv.dates(t, c, problems, partial=True)[0] for c in ("RFENDTC", "RFPENDTC", "RFXENDTC")]
    df = pd.DataFrame({
        "usubjid": cv.text(t, "USUBJID", problems, required=True),
        "site_id": cv.text(t, "SITEID", problems, required=True),
        "arm": cv.text(t, "ARM", problems, required=True),
        "randomized_on": randomized_on.fillna(day1), "day1_on": day1,
        "age": cv.integers(t, "AGE", problems),
        "sex": cv.terms(t, "SEX" if "SEX" in t.df.columns else None, cdisc.SEX, problems),
        "weight_kg": None,
        "etiology": cv.text(t, mapping.subjects.get("etiology"), problems),
        "lf_type": cv.text(t, mapping.subjects.get("lf_type"), problems),
        "status": "on study", "death_on": death_on, "death_cause": None, "transplant_on": pd.NaT,
        "withdrawn_on": pd.NaT, "_last_known": pd.concat(ends, axis=1).max(axis=1),
        "_row": t.df["_row"],
    })
    if ds is not None:
        _disposition(df, ds, mapping, problems)
    died = df["death_on"].notna() | df["status"].eq("died")
    df.loc[died, "status"] = "died"
    if vs is not None and "VSTESTCD" in vs.df.columns:
        df["weight_kg"] = df["usubjid"].map(_baseline_weight(vs, df.set_index("usubjid")["day1_on"], problems))
    bundle.put("subjects", df, dm, {"usubjid": "USUBJID", "site_id": "SITEID", "arm": "ARM",
                                    "day1_on": day1_col, "randomized_on": rand_col or day1_col, "death_on": "DTHDTC"})
    return screen_failures


def _disposition(subjects: pd.DataFrame, ds: SourceTable, mapping: Mapping, problems: Problems) -> None:
    if not cv.require_columns(ds, ["USUBJID", "DSDECOD"], problems):
        return
    on, _ = cv.dates(ds, cv.first_column(ds, "DSSTDTC", "DSDTC"), problems, partial=True)
    decod = cv.text(ds, "DSDECOD", problems, required=True).str.upper()
    is_event = decod.notna() & ~decod.isin(cdisc.NOT_DISPOSITIONS)
    if "DSCAT" in ds.df.columns:
        is_event &= ds.df["DSCAT"].astype(object).str.upper().eq("DISPOSITION EVENT").fillna(False)
    events = pd.DataFrame({"usubjid": ds.df["USUBJID"], "on": on, "decod": decod, "order": range(len(decod))})
    latest = events[is_event].sort_values(["on", "order"], na_position="first").groupby("usubjid").last()
    status = cdisc.status_of(latest["decod"], mapping)
    idx = subjects["usubjid"]
    subjects["status"] = idx.map(status).fillna("on study")
    when = idx.map(latest["on"])
    subjects["withdrawn_on"] = when.where(subjects["status"].eq("withdrawn"))
    subjects["transplant_on"] = when.where(subjects["status"].eq("transplanted"))
    subjects["death_on"] = subjects["death_on"].fillna(when.where(subjects["status"].eq("died")))
    all_ds = events.groupby("usubjid")["on"].max()
    subjects["_last_known"] = pd.concat([subjects["_last_known"], idx.map(all_ds)], axis=1).max(axis=1)


def _baseline_weight(vs: SourceTable, day1: pd.Series, problems: Problems) -> pd.Series:
    w = vs.df[vs.df["VSTESTCD"].astype(object).eq("WEIGHT")]
    if w.empty:
        return pd.Series(dtype=float)
    t = SourceTable(vs.name, w)
    on, _ = cv.dates(t, "VSDTC", Problems())  # VS dates are checked with the vital signs
    units = w.get("VSSTRESU", pd.Series("kg", index=w.index))
    unit, factor, offset, bad = convert_units(pd.Series("WEIGHT", index=w.index), units, targets=VITAL_UNITS)
    kg = pd.to_numeric(w.get("VSSTRESN"), errors="coerce") * factor + offset
    df = pd.DataFrame({"usubjid": w["USUBJID"], "on": on, "kg": kg})
    df = df[df["kg"].notna() & (df["on"] <= df["usubjid"].map(day1))]
    return df.sort_values("on").groupby("usubjid")["kg"].last().round(1)


def _record_days(t: SourceTable, date_col: str, dy_col: str, day1: pd.Series, problems: Problems,
                 required: bool = True) -> tuple[pd.Series, pd.Series]:
    """(date, model study day) from a --DTC date, else from --DY; one of them is required."""
    on, _ = cv.dates(t, date_col, problems)
    d1 = t.df["USUBJID"].map(day1)
    day = cv.study_day(on, d1)
    dy = cv.numbers(t, dy_col, problems)
    from_dy = cv.cdisc_day_to_model(dy)
    day = day.fillna(from_dy)
    on = on.fillna(cv.day_to_date(from_dy, d1))
    if required:
        missing = on.isna() & dy.isna() & t.df[date_col if date_col in t.df.columns else "USUBJID"].isna()
        if missing.any():
            problems.add_rows(t.name, t.df.loc[missing, "_row"], date_col, [""] * int(missing.sum()),
                              f"a date or a study day ({dy_col})")
    return on, day


def _labs(bundle, lb, day1, mapping, problems) -> None:
    if not cv.require_columns(lb, ["USUBJID", "LBTESTCD", "LBSTRESN", "LBSTRESU", ("LBDTC", "LBDY")], problems):
        return
    value = cv.numbers(lb, "LBSTRESN", problems)
    character = value.isna()
    if character.any():
        problems.warn(f"{lb.name}: {int(character.sum())} character result(s) (LBSTRESN blank) skipped")
    t = cdisc.subset(lb, ~character)
    on, day = _record_days(t, "LBDTC", "LBDY", day1, problems)
    df = pd.DataFrame({
        "usubjid": cv.text(t, "USUBJID", problems, required=True),
        "paramcd": cv.text(t, "LBTESTCD", problems, required=True).map(mapping.paramcd),
        "param": cv.text(t, "LBTEST", problems), "raw_unit": cv.text(t, "LBSTRESU", problems),
        "value": value[~character].to_numpy(), "lower_limit": cv.numbers(t, "LBSTNRLO", problems),
        "upper_limit": cv.numbers(t, "LBSTNRHI", problems), "visit": cv.text(t, "VISIT", problems),
        "visit_num": cdisc.as_visit_num(t.df.get("VISITNUM", pd.Series(index=t.df.index, dtype=float))),
        "collected_on": on, "study_day": day, "_row": t.df["_row"],
        "_planned_day": cv.cdisc_day_to_model(cv.numbers(t, "VISITDY", problems)),
    })
    # SDTM flags each test's baseline record (LBBLFL "Y", often at screening); the data model's baseline,
    # from which changes are computed, is visit 0 (docs/data-model.md).
    baseline = (cv.text(t, "LBBLFL", problems) == "Y").to_numpy()
    df.loc[baseline, "visit"], df.loc[baseline, "visit_num"] = BASELINE_VISIT, 0
    bundle.put("lab_results", cdisc.finish_labs(t, df, "LBSTRESU", mapping, problems), lb,
               {"usubjid": "USUBJID", "paramcd": "LBTESTCD", "visit": "VISIT", "study_day": "LBDY"})


def _infusions(bundle, ex, day1, problems) -> None:
    if not cv.require_columns(ex, ["USUBJID", "EXTRT", "EXSTDTC"], problems):
        return
    start, _ = cv.dates(ex, "EXSTDTC", problems, required=True)
    end, _ = cv.dates(ex, "EXENDTC", problems)
    backwards = end.notna() & start.notna() & (end < start)
    if backwards.any():
        problems.add_rows(ex.name, ex.df.loc[backwards, "_row"], "EXENDTC", ex.df.loc[backwards, "EXENDTC"],
                          "an end date on or after EXSTDTC")
    dose = cv.numbers(ex, "EXDOSE", problems)
    unit = cv.text(ex, "EXDOSU", problems).fillna("")
    treatment = cv.text(ex, "EXTRT", problems, required=True)
    cells = unit.str.contains(r"10\^6.*cell", case=False, regex=True)
    df = pd.DataFrame({
        "usubjid": ex.df["USUBJID"], "given_on": start,
        "study_day": cv.study_day(start, ex.df["USUBJID"].map(day1)),
        "product": [f"{tr} {d:g} {u}".strip() if pd.notna(d) else tr for tr, d, u in zip(treatment, dose, unit)],
        "dose_cells_1e6": dose.where(cells), "volume_ml": dose.where(unit.str.upper().eq("ML")),
        "_route": cv.text(ex, "EXROUTE", problems), "_row": ex.df["_row"],
    })
    df = df.sort_values(["usubjid", "given_on", "_row"], kind="stable")
    df["infusion_num"] = df.groupby("usubjid").cumcount() + 1
    bundle.put("infusions", df, ex, {"usubjid": "USUBJID", "given_on": "EXSTDTC"})


def _vitals(bundle, vs, day1, mapping, problems) -> None:
    if not cv.require_columns(vs, ["USUBJID", "VSTESTCD", "VSSTRESN", "VSSTRESU"], problems):
        return
    value = cv.numbers(vs, "VSSTRESN", problems)
    t = cdisc.subset(vs, value.notna())
    on, _ = cv.dates(t, "VSDTC", problems)
    paramcd = cv.text(t, "VSTESTCD", problems, required=True)
    unit, factor, offset, bad = convert_units(paramcd, t.df["VSSTRESU"], mapping.units, targets=VITAL_UNITS)
    if bad.any():
        problems.add_rows(t.name, t.df.loc[bad, "_row"], "VSSTRESU", t.df.loc[bad, "VSSTRESU"].fillna("(blank)"),
                          "a known vital-sign unit (C, F, kg, LB, cm, mmHg, beats/min...) or a [[units]] rule")
    ref = cv.text(t, "VSTPTREF", problems).fillna("").str.upper()
    after_dose = ref.str.contains("DOSE|INFUSION|EXPOSURE", regex=True)
    infusions = bundle.tables.get("infusions")
    infusion_num = pd.Series(pd.NA, index=t.df.index, dtype="Int64")
    if infusions is not None and len(infusions):
        iv = infusions[infusions["_route"].fillna("").str.upper().str.contains("INTRAVENOUS")]
        by_day = iv.drop_duplicates(["usubjid", "given_on"]).set_index(["usubjid", "given_on"])["infusion_num"]
        keys = pd.MultiIndex.from_arrays([t.df["USUBJID"], on.dt.normalize()])
        infusion_num = pd.Series(by_day.reindex(keys).to_numpy(), index=t.df.index).astype("Int64")
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "infusion_num": infusion_num,
        "timepoint": cv.text(t, "VSTPT", problems).fillna(cv.text(t, "VISIT", problems)),
        "hours_after": cv.iso_hours(t.df.get("VSELTM", pd.Series(index=t.df.index, dtype=object))).where(after_dose),
        "paramcd": paramcd, "value": (value[value.notna()].to_numpy() * factor + offset).round(10), "unit": unit,
        "_row": t.df["_row"],
    })
    bundle.put("vital_signs", df, vs, {"usubjid": "USUBJID", "paramcd": "VSTESTCD"})


def _mean_arterial_pressure(bundle, vs, day1, mapping) -> None:
    """VS MAP records also as the lab MAP (an input of the CLIF-C circulation score, data.derived_parameters):
    the lowest of each patient's visit and day; the VSBLFL = Y record is visit 0, as LBBLFL is for labs."""
    if not {"VSTESTCD", "VSSTRESN", "USUBJID"} <= set(vs.df.columns):
        return
    t = cdisc.subset(vs, vs.df["VSTESTCD"].astype(object).eq("MAP").fillna(False).astype(bool))
    if t.df.empty:
        return
    quiet = Problems()  # the vital signs report these records' problems
    on, day = _record_days(t, "VSDTC", "VSDY", day1, quiet, required=False)
    df = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "paramcd": "MAP", "param": cv.text(t, "VSTEST", quiet),
        "raw_unit": cv.text(t, "VSSTRESU", quiet), "value": cv.numbers(t, "VSSTRESN", quiet),
        "lower_limit": float("nan"), "upper_limit": float("nan"), "visit": cv.text(t, "VISIT", quiet),
        "visit_num": cdisc.as_visit_num(t.df.get("VISITNUM", pd.Series(index=t.df.index, dtype=float))),
        "collected_on": on, "study_day": day, "_row": t.df["_row"],
    })
    baseline = (cv.text(t, "VSBLFL", quiet) == "Y").to_numpy()
    df.loc[baseline, "visit"], df.loc[baseline, "visit_num"] = BASELINE_VISIT, 0
    bundle.put("lab_results", cdisc.lowest_of_the_day(t, df, "VSSTRESU", mapping), t, {})


def _adverse_events(bundle, ae, day1, problems) -> None:
    if not cv.require_columns(ae, ["USUBJID", ("AEDECOD", "AETERM"), "AESER", ("AETOXGR", "AESEV"),
                                   ("AESTDTC", "AESTDY")], problems):
        return
    d1 = ae.df["USUBJID"].map(day1)
    start, partial = cv.dates(ae, "AESTDTC", problems, partial=True)
    imputed = cv.impute_partial(partial, d1)
    if partial.notna().any():
        problems.warn(f"{ae.name}: {int(partial.notna().sum())} partial AESTDTC imputed (first day of the month or "
                      "year, not before the first dose in the same month or year)")
    end, _ = cv.dates(ae, "AEENDTC", problems, partial=True)
    start = start.fillna(imputed)
    onset = cv.study_day(start, d1).fillna(cv.cdisc_day_to_model(cv.numbers(ae, "AESTDY", problems)))
    end_day = cv.study_day(end, d1).fillna(cv.cdisc_day_to_model(cv.numbers(ae, "AEENDY", problems)))
    missing = onset.isna() & d1.notna()
    if missing.any():
        found = ae.df.loc[missing].get("AESTDTC", [""] * int(missing.sum()))
        problems.add_rows(ae.name, ae.df.loc[missing, "_row"], "AESTDTC", found, "a start date (AESTDTC) or study day (AESTDY)")
    common = cdisc.ae_common(ae, problems)
    df = pd.DataFrame({
        "usubjid": ae.df["USUBJID"], **common,
        "grade": cdisc.ae_grade(ae, cv.first_column(ae, "AETOXGR"), problems, common["outcome"].eq("FATAL")),
        "infusion_related": False, "infusion_num": pd.NA, "onset_hours_after": float("nan"),
        "onset_day": onset, "end_day": end_day, "_start": start, "_row": ae.df["_row"],
        "_seq": cv.numbers(ae, "AESEQ", problems),
    })
    _link_infusions(df, bundle.tables.get("infusions"))
    bundle.put("adverse_events", df, ae, {"usubjid": "USUBJID", "onset_day": "AESTDTC", "end_day": "AEENDTC",
                                          "ae_id": "AESEQ", "_seq": "AESEQ"})


def _link_infusions(aes: pd.DataFrame, infusions: pd.DataFrame | None) -> None:
    """An AE starting on the day of an intravenous infusion or the next day is infusion-related (0-24 h
    window of DESIGN §1); other routes (tablets, patches) have no infusion reactions."""
    if infusions is None or not len(infusions):
        return
    iv = infusions[infusions["_route"].fillna("INTRAVENOUS").str.upper().str.contains("INTRAVENOUS")]
    for offset in (0, 1):
        by_day = (iv.assign(day=iv["study_day"] + offset).drop_duplicates(["usubjid", "day"])
                  .set_index(["usubjid", "day"])["infusion_num"])
        keys = pd.MultiIndex.from_arrays([aes["usubjid"], aes["onset_day"]])
        num = pd.Series(by_day.reindex(keys).to_numpy(), index=aes.index)
        hit = num.notna() & ~aes["infusion_related"]
        aes.loc[hit, "infusion_related"] = True
        aes.loc[hit, "infusion_num"] = num[hit]
