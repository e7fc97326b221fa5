"""Oracle of ``dashboard.data.safety_aggregates``' safety-signal queries: the same counts from adverse-event
and subject rows in pandas, which the tests hold equal to the SQL (``ae_term_counts``, ``ae_exposure_counts``,
``first_sae_times``)."""

from __future__ import annotations

import pandas as pd

from dashboard.domain.adverse_events import _ae_with_subjects
from tests.oracle.adverse_events import _category_masks


def _days_on_study(subjects: pd.DataFrame) -> pd.Series:
    return (pd.to_datetime(subjects["last_contact_on"]) - pd.to_datetime(subjects["day1_on"])).dt.days + 1


def ae_term_counts(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """Per group, SOC and PT (None on the SOC's row): N, n_patients, events; every group x every key."""
    events, subj = _ae_with_subjects(ae, subjects, group_col, "ae_term_counts", ("usubjid", "soc", "term"))
    big_n = subj.groupby("group")["usubjid"].nunique()
    keys = sorted({(s, None) for s in events["soc"]} | set(zip(events["soc"], events["term"])),
                  key=lambda k: (k[0], k[1] or ""))
    rows = []
    for group, n in big_n.items():
        mine = events[events["group"] == group]
        for soc, term in keys:
            part = mine[(mine["soc"] == soc) & ((mine["term"] == term) if term is not None else True)]
            rows.append((None if group_col is None else group, soc, term, int(n), part["usubjid"].nunique(),
                         len(part)))
    return pd.DataFrame(rows, columns=["group", "soc", "term", "N", "n_patients", "events"])


def ae_exposure_counts(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """Per group and AE category: N, n_patients, events, follow_up_days, days_at_risk (time to the first
    event of the category, within 0 and the days on study)."""
    events, subj = _ae_with_subjects(ae, subjects, group_col, "ae_exposure_counts",
                                     ("usubjid", "onset_day", "grade", "serious", "related", "infusion_related",
                                      "outcome"))
    subj = subj.assign(days=_days_on_study(subj))
    rows = []
    for category, mask in _category_masks(events).items():
        first = events[mask].groupby("usubjid")["onset_day"].min()
        n_events = events[mask].groupby("usubjid").size()
        per = subj.assign(first=subj["usubjid"].map(first), n=subj["usubjid"].map(n_events).fillna(0))
        at_risk = per["first"].fillna(per["days"]).clip(upper=per["days"]).clip(lower=0)
        for group, part in per.assign(at_risk=at_risk).groupby("group"):
            rows.append((None if group_col is None else group, category, len(part), int((part["n"] > 0).sum()),
                         int(part["n"].sum()), int(part["days"].sum()), int(part["at_risk"].sum())))
    return pd.DataFrame(rows, columns=["group", "category", "N", "n_patients", "events", "follow_up_days",
                                       "days_at_risk"])


def first_sae_times(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """One row per patient: days to the first SAE with onset on or after day 1 (event 1), else days on study."""
    first = ae[ae["serious"].astype(bool) & (ae["onset_day"] >= 1)].groupby("usubjid")["onset_day"].min()
    out = pd.DataFrame({"usubjid": subjects["usubjid"],
                        "group": None if group_col is None else subjects[group_col],
                        "time_days": subjects["usubjid"].map(first).fillna(_days_on_study(subjects)).astype(float),
                        "event": subjects["usubjid"].isin(first.index).astype(int)})
    return out.sort_values("usubjid").reset_index(drop=True)
