"""Domain layer: protocol deviations by site (eligibility, visit windows, missed assessments) and data
completeness by visit and site (DSMB report, issue 16).

Entry criteria checked at baseline (/work/shared/domain.md, the project's domain research):

- age 18-70 years: the registry record's inclusion criteria (domain.md §1, [S1] NCT01218464);
- total bilirubin >= 171 umol/L (10 mg/dL): the Chinese liver-failure guideline (domain.md §3.3, [S45, S25]);
- prothrombin activity <= 40% or INR >= 1.5: the liver-failure coagulation criterion (domain.md §6 "Clinical
  cut-offs", [S25, S23]; §3.3 "<= 40% is the entry criterion").

Baseline is the labs' baseline (the last visit-0 value, as ``labstats.add_change_from_baseline`` and the SQL
``BASELINE_CTE``). A patient whose values needed for a criterion are missing, and who breaks no other, is
"not assessable", not a deviation.

A visit-window deviation is a patient-visit with an assessment (a lab or ascites record of a scheduled visit)
dated outside the visit's ``window_lo``..``window_hi`` (``visits`` table). A missed assessment is a scheduled
visit due (its window closed before the cut and before the patient left) and not attended: exactly what
``queries.visit_completeness`` counts, called per site (and arm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dashboard.domain.checks import require_columns
from dashboard.domain.consort import ALL_SITES, display_order, label_groups
from dashboard.domain.overview import follow_up_completeness
from dashboard.domain.report_format import fmt_count, fmt_n_pct


@dataclass(frozen=True)
class EntryCriteria:
    age_min: int = 18
    age_max: int = 70
    bili_min: float = 171.0  # umol/L
    pta_max: float = 40.0  # %
    inr_min: float = 1.5


ENTRY_CRITERIA = EntryCriteria()
_C = ENTRY_CRITERIA
# (category, deviation key, label, count column, denominator column)
DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("Eligibility", "any_criterion", "Any entry criterion not met (patients)"),
    ("Eligibility", "age_out", f"Age outside {_C.age_min}–{_C.age_max} years"),
    ("Eligibility", "bili_low", f"Total bilirubin below {_C.bili_min:g} µmol/L at baseline"),
    ("Eligibility", "coag_not_met", f"Neither PTA ≤ {_C.pta_max:g}% nor INR ≥ {_C.inr_min:g} at baseline"),
    ("Eligibility", "not_assessable", "Not assessable: a baseline value missing"),
    ("Visit window", "outside", "Patient-visits with an assessment outside the visit window"),
    ("Missed assessment", "missed", "Scheduled visits due and not attended"),
)
DEVIATION_COLUMNS = ("category", "deviation", "label", "group", "site_id", "n", "denominator", "pct", "unit")
COMPLETENESS_COLUMNS = ("site_id", "visit_num", "visit", "expected", "observed", "missing", "pct_observed")


def _site_label(df: pd.DataFrame) -> pd.Series:
    return df["site_id"].astype(object).where(~df["all_site_id"].astype(bool), ALL_SITES).astype(str)


def _site_order(sites: Sequence[str]) -> list[str]:
    return sorted(s for s in set(sites) if s != ALL_SITES) + [ALL_SITES]


def deviation_table(eligibility: pd.DataFrame, windows: pd.DataFrame, missed: pd.DataFrame,
                    groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Protocol deviations per group and site, with ``All sites``.

    Parameters
    ----------
    eligibility : DataFrame
        ``report_queries.eligibility_counts`` (``group``, ``site_id``, ``total``, ``all_site_id``, ``patients``,
        ``age_out``, ``bili_low``, ``coag_not_met``, ``any_criterion``, ``not_assessable``).
    windows : DataFrame
        ``report_queries.visit_window_counts`` (``patient_visits``, ``outside``, same keys).
    missed : DataFrame
        Per ``group`` label (arm, ``Total`` or ``All patients``) and ``site_id`` (``All sites`` included):
        ``expected`` and ``observed`` scheduled visits (``visit_completeness`` summed over visits).
    groups : arms in study order; None or empty when pooled.

    Returns
    -------
    DataFrame
        ``DEVIATION_COLUMNS``: every deviation of ``DEVIATIONS`` for every group and site (zeros included);
        ``n`` of ``denominator`` (patients, patient-visits assessed, or visits due) and ``pct``; ``unit``
        names the denominator. Ordered by deviation, site (``All sites`` last), group.
    """
    require_columns("deviation_table", eligibility, ("group", "site_id", "total", "all_site_id", "patients",
                                                     "age_out", "bili_low", "coag_not_met", "any_criterion",
                                                     "not_assessable"))
    require_columns("deviation_table", windows, ("group", "site_id", "total", "all_site_id", "patient_visits",
                                                 "outside"), arg="windows")
    require_columns("deviation_table", missed, ("group", "site_id", "expected", "observed"), arg="missed")
    order = display_order(groups)
    e = eligibility.assign(group=label_groups(eligibility), site_id=_site_label(eligibility)).set_index(["group", "site_id"])
    w = windows.assign(group=label_groups(windows), site_id=_site_label(windows)).set_index(["group", "site_id"])
    m = missed.assign(missing=missed["expected"] - missed["observed"]).groupby(["group", "site_id"])[
        ["expected", "missing"]].sum()
    sites = _site_order([*e.index.get_level_values("site_id"), *m.index.get_level_values("site_id"), ALL_SITES])
    sources = {"Eligibility": (e, "patients", "patients"), "Visit window": (w, "patient_visits", "patient-visits assessed"),
               "Missed assessment": (m, "expected", "visits due")}
    rows = []
    for category, key, label in DEVIATIONS:
        frame, denominator_col, unit = sources[category]
        column = "missing" if key == "missed" else key
        for site in sites:
            for group in order:
                if (group, site) in frame.index:
                    n, d = int(frame.loc[(group, site), column]), int(frame.loc[(group, site), denominator_col])
                else:
                    n, d = 0, 0
                rows.append((category, key, label, group, site, n, d, 100.0 * n / d if d else float("nan"), unit))
    out = pd.DataFrame(rows, columns=list(DEVIATION_COLUMNS))
    out.attrs["note"] = (f"Entry criteria at baseline: age {_C.age_min}–{_C.age_max} years; total bilirubin ≥ "
                         f"{_C.bili_min:g} µmol/L; PTA ≤ {_C.pta_max:g}% or INR ≥ {_C.inr_min:g}. Visit windows as in "
                         "the visit schedule; a visit is due once its window has closed before the data cut and "
                         "before the patient left the study.")
    return out


def deviation_display(table: pd.DataFrame) -> pd.DataFrame:
    """The publication deviations table: ``Category``, ``Deviation``, ``Site``, one column per group with
    ``n (x.x%)`` of the row's denominator (its unit is in the deviation's label)."""
    require_columns("deviation_display", table, DEVIATION_COLUMNS)
    groups = list(dict.fromkeys(table["group"]))
    wide = []
    for (key, site), part in table.groupby(["deviation", "site_id"], sort=False):
        first = part.iloc[0]
        row = {"Category": first["category"], "Deviation": f"{first['label']}, n (% of {first['unit']})",
               "Site": site}
        by_group = part.set_index("group")
        for g in groups:
            row[g] = fmt_n_pct(by_group.loc[g, "n"], by_group.loc[g, "denominator"])
        wide.append(row)
    out = pd.DataFrame(wide)
    out.attrs["note"] = table.attrs.get("note", "")
    return out


def completeness_table(by_site: pd.DataFrame) -> pd.DataFrame:
    """Data completeness per site and scheduled visit.

    Parameters
    ----------
    by_site : DataFrame
        ``site_id`` (``All sites`` included), ``visit_num``, ``visit``, ``expected`` (patient-visits due) and
        ``observed`` (attended): ``queries.visit_completeness`` per site.

    Returns
    -------
    DataFrame
        ``COMPLETENESS_COLUMNS``: ``missing`` = expected - observed; ``pct_observed`` as
        ``overview.follow_up_completeness`` (NaN where nothing was due). Sites sorted, ``All sites`` last.
    """
    require_columns("completeness_table", by_site, ("site_id", "visit_num", "visit", "expected", "observed"))
    out = follow_up_completeness(by_site)
    out["missing"] = out["expected"] - out["observed"]
    order = {s: i for i, s in enumerate(_site_order(out["site_id"]))}
    out = out.assign(_o=out["site_id"].map(order)).sort_values(["_o", "visit_num"]).reset_index(drop=True)
    out = out[list(COMPLETENESS_COLUMNS)]
    out.attrs["note"] = ("Assessments (ascites visits) due: the visit window closed before the data cut and before "
                         "the patient left the study; a visit attended early counts as due.")
    return out


def completeness_display(table: pd.DataFrame) -> pd.DataFrame:
    """The publication completeness table: one row per visit (``Visit``), per site ``observed/due (x%)`` cells
    written ``n (x.x%)`` of due, with the due count in the column header row ``Due`` below each."""
    require_columns("completeness_display", table, COMPLETENESS_COLUMNS)
    sites = list(dict.fromkeys(table["site_id"]))
    visits = table.drop_duplicates("visit_num").sort_values("visit_num")[["visit_num", "visit"]]
    rows = []
    for _, v in visits.iterrows():
        row = {"Visit": v["visit"]}
        for site in sites:
            part = table[(table["site_id"] == site) & (table["visit_num"] == v["visit_num"])]
            due = int(part["expected"].iloc[0]) if len(part) else 0
            observed = int(part["observed"].iloc[0]) if len(part) else 0
            name = site if site == ALL_SITES else f"Site {site}"
            row[f"{name}: due, n"] = fmt_count(due)
            row[f"{name}: observed, n (%)"] = fmt_n_pct(observed, due)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["note"] = table.attrs.get("note", "")
    return out
