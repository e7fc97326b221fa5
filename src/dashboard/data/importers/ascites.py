"""Data layer: ascites assessments from the domain the mapping file names (``[ascites]``).

CDISC has no ascites domain; sites record it in FA, CE, PR or a sponsor domain (SDTM findings layout
with --TESTCD/--STRESN/--STRESC) or an ADaM BDS dataset (PARAMCD/AVAL/AVALC). The mapping names the
file and the test codes of grade, depth (cm) and volume (mL); grade may be 0-3 or NONE/MILD/MODERATE/SEVERE.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.importers import cdisc
from dashboard.data.importers import convert as cv
from dashboard.data.importers.bundle import Bundle
from dashboard.data.importers.mapping import Mapping
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import Delivery

GRADES = {"0": 0, "1": 1, "2": 2, "3": 3, "NONE": 0, "ABSENT": 0, "MILD": 1, "SLIGHT": 1, "SMALL": 1,
          "MODERATE": 2, "SEVERE": 3, "LARGE": 3, "MASSIVE": 3, "TENSE": 3}


def load(bundle: Bundle, delivery: Delivery, mapping: Mapping, day1: pd.Series, problems: Problems,
         screen_failures: set[str]) -> None:
    m = mapping.ascites
    if not m:
        return
    raw = delivery.get(m.get("file", "fa"))
    if raw is None:
        problems.add(f"{delivery.path.name}/{m.get('file', 'fa')}", None, None, "no such file",
                     "the file named by [ascites] file in the mapping")
        return
    t = cdisc.upper(raw)
    t = cdisc.subset(t, ~t.df.get("USUBJID", pd.Series(index=t.df.index, dtype=object)).isin(screen_failures))
    if "PARAMCD" in t.df.columns:
        code, num, char, dtc, dy, visit, visitn = "PARAMCD", "AVAL", "AVALC", "ADT", "ADY", "AVISIT", "AVISITN"
    else:
        testcd = next((c for c in t.df.columns if c.endswith("TESTCD")), "FATESTCD")
        p = testcd[:-6]
        code, num, char, dtc, dy, visit, visitn = testcd, f"{p}STRESN", f"{p}STRESC", f"{p}DTC", f"{p}DY", "VISIT", "VISITNUM"
    if not cv.require_columns(t, ["USUBJID", code, (num, char), (dtc, dy)], problems):
        return
    on, _ = cv.dates(t, dtc, problems)
    d1 = t.df["USUBJID"].map(day1)
    day = cv.study_day(on, d1).fillna(cv.cdisc_day_to_model(cv.numbers(t, dy, problems)))
    long = pd.DataFrame({
        "usubjid": t.df["USUBJID"], "code": t.df[code], "num": cv.numbers(t, num, problems) if num in t.df.columns else None,
        "char": cv.text(t, char, problems), "visit": cv.text(t, visit, problems),
        "visit_num": cdisc.as_visit_num(t.df.get(visitn, pd.Series(index=t.df.index, dtype=float))),
        "study_day": day, "_row": t.df["_row"],
    })
    wanted = {m.get("grade", "ASCGRADE"): "grade", m.get("depth_cm", "ASCDEPTH"): "depth_cm",
              m.get("volume_ml", "ASCVOL"): "volume_ml"}
    long = long[long["code"].isin(list(wanted))].assign(what=lambda d: d["code"].map(wanted))
    if long.empty:
        problems.add(t.name, None, code, "no ascites records", f"records with {code} in {', '.join(wanted)}")
        return
    keys = ["usubjid", "visit", "study_day"]
    grade_rows = long[long["what"] == "grade"]
    grade_text = grade_rows["char"].fillna(grade_rows["num"].map(lambda v: None if pd.isna(v) else str(int(v))))
    grade = grade_text.str.upper().map(GRADES)
    bad = grade.isna()
    if bad.any():
        problems.add_rows(t.name, grade_rows.loc[bad, "_row"], char, grade_text[bad],
                          "an ascites grade 0-3 or NONE, MILD, MODERATE, SEVERE")
    out = grade_rows[keys + ["visit_num", "_row"]].assign(grade=grade.astype("Int64"))
    for what in ("depth_cm", "volume_ml"):
        values = long[long["what"] == what].drop_duplicates(keys).set_index(keys)["num"]
        out[what] = values.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
        missing = out[what].isna()
        if missing.any():
            problems.add_rows(t.name, out.loc[missing, "_row"], code, [f"no {what} record"] * int(missing.sum()),
                              f"a {[k for k, v in wanted.items() if v == what][0]} record at the same visit and day")
    bundle.put("ascites", out, t, {"usubjid": "USUBJID", "visit": visit, "study_day": dy})
