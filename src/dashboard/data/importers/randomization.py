"""Data layer: a cut's randomisation delivered as its own file (issue 16), apart from the blinded delivery.

The unblinded statistician (or the IxRS) supplies ``usubjid,arm`` in a CSV; the data manager's delivery may
then carry a masked arm (``ARM = "MASKED"`` in DM/ADSL, or any placeholder): the file's arm replaces the
delivery's for every patient. The file must name each randomised patient of the delivery exactly once, with
an arm, and no one else. Problems name file, row and column; an arm value is never repeated in them (the
import report may be read by a blinded data manager, and ``arm`` is an arm-revealing column).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.data.importers.problems import Problems

REQUIRED = ("usubjid", "arm")


def read_randomization(path: str | Path, label: str, problems: Problems) -> pd.DataFrame | None:
    """``usubjid``, ``arm`` of the file at ``path`` (named ``label`` in problems), or None when unreadable."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        problems.add(label, None, None, "no such file", "a CSV file with columns usubjid,arm")
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        problems.add(label, None, None, f"not a readable CSV ({type(exc).__name__})", "a CSV file with columns usubjid,arm")
        return None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    for column in missing:
        problems.add(label, None, column, "no such column", f"columns {', '.join(REQUIRED)}")
    if missing:
        return None
    frame = frame[list(REQUIRED)].apply(lambda s: s.str.strip())
    frame.index = frame.index + 2  # file rows: the header is row 1
    return frame


def apply_randomization(subjects: pd.DataFrame, randomization: pd.DataFrame, label: str,
                        problems: Problems) -> pd.DataFrame:
    """``subjects`` with ``arm`` from ``randomization``; every mismatch is a problem of the file."""
    blank = randomization[randomization["usubjid"] == ""]
    problems.add_rows(label, blank.index, "usubjid", [""] * len(blank), "a patient id on every row")
    no_arm = randomization[(randomization["arm"] == "") & (randomization["usubjid"] != "")]
    problems.add_rows(label, no_arm.index, "arm", [""] * len(no_arm), "the patient's arm")
    named = randomization[randomization["usubjid"] != ""]
    repeated = named[named["usubjid"].duplicated(keep="first")]
    problems.add_rows(label, repeated.index, "usubjid", repeated["usubjid"], "each patient once")
    delivered = set(subjects["usubjid"])
    unknown = named[~named["usubjid"].isin(delivered)]
    problems.add_rows(label, unknown.index, "usubjid", unknown["usubjid"],
                      "a patient randomised in the delivery (subjects / DM / ADSL)")
    absent = sorted(delivered - set(named["usubjid"]))
    for usubjid in absent:
        problems.add(label, None, "usubjid", f"{usubjid} missing", "a row for every patient of the delivery")
    arms = named.drop_duplicates("usubjid").set_index("usubjid")["arm"]
    return subjects.assign(arm=subjects["usubjid"].map(arms).fillna(""))
