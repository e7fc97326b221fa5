"""Domain layer: what is new since the previous data cut, and the list of cuts, for pages.

``CutChanges`` is filled by :mod:`dashboard.data.cut_diff` (SQL over the current and the previous
kept cut); the functions here are pure pandas. Every frame carries ``arm`` only when the viewer may
see arms, so nothing here can add one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd

# Marker words, most important first: a patient's marker names each kind of change they have.
NEW_PATIENT, DIED, SERIOUS_AE, CHANGED_LABS, NEW_LABS = "new patient", "died", "new serious AE", "lab changed", "new labs"


@dataclass(frozen=True)
class CutChanges:
    """Differences between the current cut and the previous kept cut, for the selected patients.

    new_patients: subject rows absent from the previous cut. new_deaths: patients with a death date now
    and none before (new patients included). new_serious_aes: serious AEs (usubjid, term, onset_day)
    not serious or absent before. changed_labs: same usubjid, paramcd and study_day with another value
    (``previous_value`` and ``value``). new_labs: lab records whose usubjid, paramcd, study_day is new.
    """

    previous_cut_id: int
    previous_cut_date: date
    new_patients: pd.DataFrame
    new_deaths: pd.DataFrame
    new_serious_aes: pd.DataFrame
    changed_labs: pd.DataFrame
    new_labs: pd.DataFrame

    @property
    def title(self) -> str:
        return f"New since cut {self.previous_cut_id} ({pd.Timestamp(self.previous_cut_date):%Y-%m-%d})"

    @property
    def since(self) -> str:
        return f"since cut {self.previous_cut_id}"

    def frames(self) -> dict[str, pd.DataFrame]:
        """Label -> rows, in display order."""
        return {"New patients": self.new_patients, "New deaths": self.new_deaths,
                "New serious AEs": self.new_serious_aes, "Changed lab values": self.changed_labs,
                "New lab records": self.new_labs}

    def counts(self) -> dict[str, int]:
        """Label -> number of rows, in display order."""
        return {label: len(df) for label, df in self.frames().items()}

    def for_patient(self, usubjid: str) -> CutChanges:
        """The same changes restricted to one patient."""
        def one(df: pd.DataFrame) -> pd.DataFrame:
            return df[df["usubjid"] == usubjid].reset_index(drop=True)

        return CutChanges(self.previous_cut_id, self.previous_cut_date, one(self.new_patients),
                          one(self.new_deaths), one(self.new_serious_aes), one(self.changed_labs), one(self.new_labs))


def change_markers(changes: CutChanges) -> pd.DataFrame:
    """``usubjid`` and ``since_previous_cut`` (e.g. "died, new serious AE") for every patient with a change.

    A new patient is marked "new patient" only: everything about them is new.
    """
    kinds = ((NEW_PATIENT, changes.new_patients), (DIED, changes.new_deaths), (SERIOUS_AE, changes.new_serious_aes),
             (CHANGED_LABS, changes.changed_labs), (NEW_LABS, changes.new_labs))
    rows = pd.concat([pd.DataFrame({"usubjid": df["usubjid"].unique(), "kind": word, "rank": i})
                      for i, (word, df) in enumerate(kinds)], ignore_index=True)
    new = set(changes.new_patients["usubjid"])
    rows = rows[(rows["kind"] == NEW_PATIENT) | ~rows["usubjid"].isin(new)].sort_values(["usubjid", "rank"])
    marked = rows.groupby("usubjid", sort=True)["kind"].agg(", ".join)
    return pd.DataFrame({"usubjid": marked.index, "since_previous_cut": marked.to_numpy()})


def patient_notes(changes: CutChanges, usubjid: str) -> list[str]:
    """One patient's changes as short notes, e.g. "new since previous cut (cut 1, 2025-03-31)"."""
    mine = changes.for_patient(usubjid)
    since = f"since previous cut (cut {changes.previous_cut_id}, {pd.Timestamp(changes.previous_cut_date):%Y-%m-%d})"
    n_sae, n_lab = len(mine.new_serious_aes), len(mine.changed_labs)
    notes = [f"new {since}"] if len(mine.new_patients) else []
    notes += [f"died {since}"] if len(mine.new_deaths) else []
    notes += [f"{n_sae} new serious AE{'s' if n_sae > 1 else ''} {since}"] if n_sae else []
    notes += [f"{n_lab} lab value{'s' if n_lab > 1 else ''} changed {since}"] if n_lab else []
    return notes


def with_change_markers(table: pd.DataFrame, changes: CutChanges | None) -> pd.DataFrame:
    """``table`` with ``since_previous_cut`` after ``usubjid`` ("" for unchanged patients); unchanged
    when there is no previous cut."""
    if changes is None:
        return table
    out = table.merge(change_markers(changes), on="usubjid", how="left")
    out["since_previous_cut"] = out["since_previous_cut"].fillna("")
    cols = ["usubjid", "since_previous_cut"] + [c for c in table.columns if c != "usubjid"]
    return out[cols]


def cuts_table(cuts: pd.DataFrame) -> pd.DataFrame:
    """The ``data_cuts`` rows with ``row_counts`` (JSON) spread into one column per table, newest first."""
    counts = pd.DataFrame([json.loads(text) for text in cuts["row_counts"]], index=cuts.index)
    out = pd.concat([cuts.drop(columns=["row_counts", "checksum"]), counts, cuts[["checksum"]]], axis=1)
    return out.sort_values("cut_id", ascending=False).reset_index(drop=True)
