"""Markers, profile notes, the flagged visit x lab table and the cut list built from 'new since the previous cut'."""

from datetime import date

import pandas as pd

from dashboard.domain import profile
from dashboard.domain.cut_changes import CutChanges, change_markers, cuts_table, patient_notes, with_change_markers


def _changes() -> CutChanges:
    def ids(*usubjids, **cols):
        return pd.DataFrame({"usubjid": list(usubjids), **cols})

    return CutChanges(
        previous_cut_id=1, previous_cut_date=date(2025, 3, 31),
        new_patients=ids("P-3"),
        new_deaths=ids("P-1", "P-3"),
        new_serious_aes=ids("P-1", "P-1", "P-3"),
        changed_labs=ids("P-2", paramcd=["BILI"], study_day=[8], previous_value=[40.0], value=[45.0]),
        new_labs=ids("P-2", "P-3", "P-4"))


def test_markers_name_each_kind_of_change_and_new_patients_only_once():
    markers = change_markers(_changes()).set_index("usubjid")["since_previous_cut"].to_dict()
    assert markers == {"P-1": "died, new serious AE", "P-2": "lab changed, new labs", "P-3": "new patient",
                       "P-4": "new labs"}


def test_list_gets_the_marker_after_the_id_and_blank_for_unchanged_patients():
    table = pd.DataFrame({"usubjid": ["P-1", "P-5"], "site_id": ["S01", "S02"]})
    out = with_change_markers(table, _changes())
    assert list(out.columns) == ["usubjid", "since_previous_cut", "site_id"]
    assert out["since_previous_cut"].tolist() == ["died, new serious AE", ""]
    assert with_change_markers(table, None) is table


def test_patient_notes_count_and_date_the_changes():
    since = "since previous cut (cut 1, 2025-03-31)"
    assert patient_notes(_changes(), "P-1") == [f"died {since}", f"2 new serious AEs {since}"]
    assert patient_notes(_changes(), "P-3") == [f"new {since}", f"died {since}", f"1 new serious AE {since}"]
    assert patient_notes(_changes(), "P-2") == [f"1 lab value changed {since}"]
    assert patient_notes(_changes(), "P-4") == []


def test_visit_lab_table_flags_a_changed_value_with_its_previous_value():
    labs = pd.DataFrame({"usubjid": "P-2", "paramcd": ["BILI", "BILI", "ALB"], "visit": ["Baseline", "W1", "W1"],
                         "visit_num": [0, 1, 1], "study_day": [1, 8, 8], "value": [30.0, 45.0, 35.0],
                         "lower_limit": None, "upper_limit": None})
    table = profile.visit_lab_table(labs, _changes().changed_labs)
    assert table["BILI was"].isna().tolist() == [True, False] and table["BILI was"].iloc[1] == 40.0
    assert "ALB was" not in table.columns
    shown = profile.format_visit_lab_table(table).set_index("Visit")
    assert shown.loc["W1", "BILI (umol/L)"] == f"45.0 ▲ {profile.CHANGED_MARK} was 40.0"
    assert shown.loc["Baseline", "BILI (umol/L)"] == "30.0 ▲"
    assert list(profile.visit_lab_table(labs).columns) == list(table.columns.drop("BILI was"))


def test_cut_list_spreads_row_counts_into_columns_newest_first():
    cuts = pd.DataFrame({"cut_id": [1, 2], "cut_date": [date(2025, 3, 31), date(2025, 9, 30)],
                         "loaded_at": pd.to_datetime(["2025-04-02", "2025-10-01"]), "source": ["a", "b"],
                         "row_counts": ['{"subjects": 55}', '{"subjects": 70}'], "checksum": ["c1", "c2"]})
    out = cuts_table(cuts)
    assert out["cut_id"].tolist() == [2, 1] and out["subjects"].tolist() == [70, 55]
    assert list(out.columns) == ["cut_id", "cut_date", "loaded_at", "source", "subjects", "checksum"]
