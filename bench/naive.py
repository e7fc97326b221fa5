"""The naive way, for comparison: every table into pandas once with SELECT *, then filter and join there.

``NaiveSource`` answers TrialView's methods from those in-memory tables, and carries what the analyses
ask of a view (``cache_key``, ``sees_arms``, ``group_col``, ``arms()``, ``study()``), so the page paths
pass it to the same ``dashboard.analyses`` functions and figure code as the real view; only where the
data come from differs. It keeps TrialView's blinding (no arm column for a blinded viewer) so both
sides do the same work. Its own queries are not cached (the naive way has no cache); the analyses
cache their results under its ``cache_key``, which no TrialView shares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from dashboard.data.queries import SUBJECT_COLUMNS, SUBJECT_DATE_COLUMNS
from dashboard.domain import adverse_events, safety
from dashboard.domain.ascites import MEASURES
from dashboard.domain.death_aware import state_scale
from dashboard.domain.labstats import EXIT_STATUSES, add_change_from_baseline, with_group
from dashboard.domain.subject_filter import SubjectFilter

# The row-level statistics are test oracles (tests/oracle), not production code; bench/run.py runs with bench/
# on the path, so the repository root, which holds the tests package, goes there too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.oracle import (
    ascites,  # noqa: E402
    death_aware,  # noqa: E402
)
from tests.oracle import safety as safety_oracle  # noqa: E402
from tests.oracle.adverse_events import ae_overview  # noqa: E402
from tests.oracle.arm_comparison import comparison_aggregates_of_rows  # noqa: E402
from tests.oracle.lab_safety import dish_peaks, shift_counts  # noqa: E402
from tests.oracle.labplots import box_stats, sample_trajectories  # noqa: E402
from tests.oracle.labstats import add_exit_day  # noqa: E402

TABLES = ("study", "subjects", "visits", "lab_results", "infusions", "vital_signs", "adverse_events", "ascites",
          "time_to_event")
_LIST_COLUMNS = {"site": "site_id", "sex": "sex", "etiology": "etiology", "lf_type": "lf_type", "status": "status",
                 "arm": "arm"}


def load_tables(con) -> dict[str, pd.DataFrame]:
    return {t: con.execute(f"SELECT * FROM {t}").df() for t in TABLES}


class NaiveSource:
    def __init__(self, tables: dict[str, pd.DataFrame], sees_arms: bool):
        self.t = tables
        self.sees_arms = sees_arms
        self.group_col = "arm" if sees_arms else None
        # Unlike any TrialView's (database file, cut, checksum, sees arms): the analyses' cached results of
        # the naive source are never served to the real view, nor the other way round.
        self.cache_key = ("naive pandas source", id(tables), sees_arms)

    # --- selection in pandas ---------------------------------------------------------------------
    def _selected(self, f: SubjectFilter) -> pd.DataFrame:
        s = self.t["subjects"]
        mask = pd.Series(True, index=s.index)
        for key, col in _LIST_COLUMNS.items():
            if getattr(f, key):
                mask &= s[col].isin(getattr(f, key))
        for key, col, op in (("age_min", "age", "ge"), ("age_max", "age", "le"),
                             ("meld_min", "baseline_meld", "ge"), ("meld_max", "baseline_meld", "le")):
            if getattr(f, key) is not None:
                mask &= getattr(s[col], op)(getattr(f, key))
        if f.id_search:
            mask &= s["usubjid"].str.lower().str.contains(f.id_search.lower(), regex=False)
        return s[mask]

    def _rows(self, table: str, f: SubjectFilter, order: list[str], columns: list[str] | None = None) -> pd.DataFrame:
        sel = self._selected(f)
        rows = self.t[table]
        rows = rows[rows["usubjid"].isin(sel["usubjid"])]
        if columns is not None:
            rows = rows[columns]
        if self.sees_arms:
            rows = rows.merge(sel[["usubjid", "arm"]], on="usubjid")
        return rows.sort_values(order).reset_index(drop=True)

    # --- TrialView's methods ---------------------------------------------------------------------
    def study(self) -> dict:
        return self.t["study"].iloc[0].to_dict()

    def arms(self) -> list[str]:
        return list(self.study()["arms"]) if self.sees_arms else []

    def lab_parameters(self) -> pd.DataFrame:
        labs = self.t["lab_results"]
        return (labs.groupby("paramcd", sort=True).agg(param=("param", "first"), unit=("unit", "first"))
                .reset_index())

    def tte_parameters(self) -> pd.DataFrame:
        tte = self.t["time_to_event"]
        return tte.groupby("paramcd", sort=True).agg(param=("param", "first")).reset_index()

    def changes_since_previous_cut(self, f: SubjectFilter) -> None:
        """None, as TrialView answers for a database with one cut: the benchmark's simulated trials hold one
        (bench/run.py checks it), so comparing with a kept earlier cut is no part of the comparison."""
        return None

    def visit_schedule(self) -> pd.DataFrame:
        return self.t["visits"].sort_values("visit_num").reset_index(drop=True)

    def subjects(self, f: SubjectFilter) -> pd.DataFrame:
        sel = self._selected(f)
        labs = self.t["lab_results"]
        meld = labs[labs["paramcd"] == "MELD"].sort_values("study_day").groupby("usubjid")["value"].last()
        infusions = self.t["infusions"].groupby("usubjid").size()
        out = sel[list(SUBJECT_COLUMNS) + (["arm"] if self.sees_arms else [])].copy()
        out["days_on_study"] = (out["last_contact_on"] - out["day1_on"]).dt.days + 1
        out["latest_meld"] = out["usubjid"].map(meld)
        out["infusions_received"] = out["usubjid"].map(infusions).fillna(0).astype(int)
        return out.sort_values("usubjid").reset_index(drop=True)

    def subject_dates(self, f: SubjectFilter) -> pd.DataFrame:
        sel = self._selected(f)
        return sel[list(SUBJECT_DATE_COLUMNS) + (["arm"] if self.sees_arms else [])].sort_values("usubjid").reset_index(drop=True)

    def first_randomized(self, f: SubjectFilter):
        return self._selected(f)["randomized_on"].min().date()

    def subject_exits(self, f: SubjectFilter) -> pd.DataFrame:
        exits = add_exit_day(self.subject_dates(f))
        exits = exits[exits["status"].isin(list(EXIT_STATUSES))]
        return exits[["usubjid", "status", "exit_day"] + (["arm"] if self.sees_arms else [])].reset_index(drop=True)

    def count_subjects(self, f: SubjectFilter) -> tuple[int, int]:
        return len(self._selected(f)), len(self.t["subjects"])

    def subject_ids(self, f: SubjectFilter) -> tuple[str, ...]:
        return tuple(self._selected(f)["usubjid"].sort_values())

    def meld_trends_of(self, usubjids: tuple[str, ...]) -> pd.DataFrame:
        labs = self.t["lab_results"]
        meld = labs[(labs["paramcd"] == "MELD") & labs["usubjid"].isin(usubjids)]
        return (meld.sort_values(["usubjid", "study_day"]).groupby("usubjid")["value"].agg(list)
                .rename("meld_trend").reset_index())

    def lab_rows(self, f: SubjectFilter, paramcds: tuple[str, ...]) -> pd.DataFrame:
        labs = self.t["lab_results"]
        sel = self._selected(f)
        rows = labs[labs["paramcd"].isin(paramcds) & labs["usubjid"].isin(sel["usubjid"])]
        if self.sees_arms:
            rows = rows.merge(sel[["usubjid", "arm"]], on="usubjid")
        return rows.sort_values(["paramcd", "usubjid", "study_day"]).reset_index(drop=True)

    def lab_visit_summary(self, f: SubjectFilter, paramcd: str, value_col: str) -> pd.DataFrame:
        """TrialView.lab_visit_summary's aggregates, computed in pandas from the fetched rows."""
        rows = add_change_from_baseline(self.lab_rows(f, (paramcd,)))
        if value_col != "value":
            rows = rows[rows["visit_num"] != 0]
        return self._visit_stats(self._with_group(rows), value_col)

    def dish_peaks(self, f: SubjectFilter) -> pd.DataFrame:
        return dish_peaks(self.lab_rows(f, ("ALT", "BILI")), group_col=self.group_col)

    def lab_box_stats(self, f: SubjectFilter, paramcd: str, value_col: str) -> pd.DataFrame:
        rows = add_change_from_baseline(self.lab_rows(f, (paramcd,)))
        return box_stats(rows, value_col=value_col, group_col=self.group_col).summary

    def lab_trajectory_sample(self, f: SubjectFilter, paramcd: str, value_col: str, max_points: int) -> pd.DataFrame:
        rows = add_change_from_baseline(self.lab_rows(f, (paramcd,)))
        sample = sample_trajectories(rows, value_col=value_col, group_col=self.group_col, max_points=max_points)
        return sample.rows.assign(n_patients=sample.n_patients)

    def lab_shift_counts(self, f: SubjectFilter, paramcd: str) -> pd.DataFrame:
        return shift_counts(self.lab_rows(f, (paramcd,)), group_col=self.group_col, paramcd=paramcd)

    def _state_inputs(self, f: SubjectFilter, paramcd: str) -> tuple:
        """What the oracle of the views that keep the dead reads: rows, patients with exit days, schedule, cut."""
        return (self.lab_rows(f, (paramcd,)), add_exit_day(self.subjects(f)), self.visit_schedule(),
                self.study()["data_cut_date"])

    def lab_state_counts(self, f: SubjectFilter, paramcd: str) -> pd.DataFrame:
        return death_aware.lab_state_counts(*self._state_inputs(f, paramcd), state_scale(paramcd), self.group_col)

    def lab_landmark_rows(self, f: SubjectFilter, paramcd: str, visit_num: int) -> pd.DataFrame:
        return death_aware.lab_landmark_rows(*self._state_inputs(f, paramcd), visit_num, self.group_col)

    def lab_grade_shift_counts(self, f: SubjectFilter, paramcd: str, direction: str) -> pd.DataFrame:
        rows = self._rows("lab_results", f, ["usubjid", "study_day"])
        rows = rows[rows["paramcd"] == paramcd]
        return death_aware.grade_shift_counts(rows, rows[f"toxgr_{direction}"], self.group_col)

    def lab_comparison_aggregates(self, f: SubjectFilter, paramcd: str, active: str, reference: str) -> pd.DataFrame:
        return comparison_aggregates_of_rows(self.lab_rows(f, (paramcd,)), group_col="arm", active=active, reference=reference)

    def _with_group(self, rows: pd.DataFrame) -> pd.DataFrame:
        return rows.assign(group=rows["arm"] if self.sees_arms else None)

    @staticmethod
    def _visit_stats(rows: pd.DataFrame, value_col: str) -> pd.DataFrame:
        x = rows.groupby(["group", "visit_num"], dropna=False)[value_col]
        labels = rows.drop_duplicates("visit_num").set_index("visit_num")["visit"]
        out = x.agg(n="count", mean="mean", sd="std", median="median", min="min", max="max").reset_index()
        out["q1"], out["q3"] = x.quantile(0.25).to_numpy(), x.quantile(0.75).to_numpy()
        return out.assign(visit=out["visit_num"].map(labels))

    def ascites_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return self._rows("ascites", f, ["usubjid", "study_day"])

    def ascites_grade_counts(self, f: SubjectFilter) -> pd.DataFrame:
        """TrialView.ascites_grade_counts in pandas from the fetched rows."""
        rows = self._with_group(self.ascites_rows(f).dropna(subset=["grade", "visit_num"]))
        rows = rows.assign(**{f"grade_{k}": rows["grade"].eq(k) for k in range(4)})
        labels = rows.drop_duplicates("visit_num").set_index("visit_num")["visit"]
        out = rows.groupby(["group", "visit_num"], dropna=False).agg(
            n=("grade", "size"), **{f"grade_{k}": (f"grade_{k}", "sum") for k in range(4)}).reset_index()
        return out.assign(visit=out["visit_num"].map(labels))

    def ascites_shift_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        rows = self.ascites_rows(f)
        shift = ascites.grade_shift(rows, group_col=self.group_col, visits=visits)
        at_visit = with_group(rows[rows["visit"].isin(visits)], self.group_col)
        assessed = at_visit.groupby(["group", "visit"])["usubjid"].nunique().rename("assessed")
        return shift.join(assessed, on=["group", "visit"]).fillna({"assessed": 0})

    def ascites_transition_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        links = ascites.grade_transitions(self.ascites_rows(f), visits=visits, group_col=self.group_col)
        return links.assign(pair=links["source_visit"].map({v: i for i, v in enumerate(visits)}))

    def ascites_resolution_times(self, f: SubjectFilter) -> pd.DataFrame:
        return ascites.resolution_times(self.ascites_rows(f), add_exit_day(self.subject_dates(f)),
                                        group_col=self.group_col)

    def _ascites_state_inputs(self, f: SubjectFilter) -> tuple:
        """What the oracle of the views that keep the dead reads: rows, patients with exit days, schedule, cut."""
        return (self.ascites_rows(f), add_exit_day(self.subject_dates(f)), self.visit_schedule(),
                self.study()["data_cut_date"])

    def ascites_visit_states(self, f: SubjectFilter) -> pd.DataFrame:
        return ascites.visit_state_counts(*self._ascites_state_inputs(f), group_col=self.group_col)

    def ascites_state_shift_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        return ascites.state_shift_counts(*self._ascites_state_inputs(f), visits=visits, group_col=self.group_col)

    def ascites_state_transition_counts(self, f: SubjectFilter, visits: tuple[str, ...]) -> pd.DataFrame:
        return ascites.state_transition_counts(*self._ascites_state_inputs(f), visits=visits, group_col=self.group_col)

    def ascites_measure_summaries(self, f: SubjectFilter) -> pd.DataFrame:
        """TrialView.ascites_measure_summaries in pandas from the fetched rows."""
        rows = self._with_group(self.ascites_rows(f).dropna(subset=["visit_num"]))
        return pd.concat([self._visit_stats(rows, m).assign(measure=m) for m in MEASURES], ignore_index=True)

    def temperature_summary(self, f: SubjectFilter) -> pd.DataFrame:
        """TrialView.temperature_summary in pandas: one value per patient and time point, then per group."""
        vs = self.vital_rows(f)
        vs = vs[vs["paramcd"] == "TEMP"].dropna(subset=["value", "infusion_num", "hours_after"])
        keys = ["group", "infusion_num", "hours_after"]
        per_patient = self._with_group(vs).groupby([*keys, "usubjid"], dropna=False).agg(
            value=("value", "mean"), timepoint=("timepoint", "first"))
        return per_patient.groupby(keys, dropna=False).agg(
            timepoint=("timepoint", "first"), n=("value", "size"), mean=("value", "mean"),
            sd=("value", "std")).reset_index()

    def infusion_rows(self, f: SubjectFilter) -> pd.DataFrame:
        cols = ["usubjid", "infusion_num", "given_on", "study_day"]
        return self._rows("infusions", f, ["usubjid", "infusion_num"],
                          cols + (["product", "dose_cells_1e6"] if self.sees_arms else []))

    def vital_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return self._rows("vital_signs", f, ["usubjid", "infusion_num", "hours_after"])

    def fever_counts(self, f: SubjectFilter) -> pd.DataFrame:
        vs, infusions = self.vital_rows(f), self.infusion_rows(f)
        return pd.concat([safety_oracle.fever_incidence(vs, infusions, group_col=self.group_col, threshold=t)
                          .summary.assign(threshold=t) for t in safety.FEVER_THRESHOLDS])[list(safety.FEVER_COUNT_COLUMNS)]

    def ae_overview_counts(self, f: SubjectFilter) -> pd.DataFrame:
        table = ae_overview(self.adverse_event_rows(f), self.subjects(f), group_col=self.group_col).table
        return table[list(adverse_events.OVERVIEW_COUNT_COLUMNS)]

    def adverse_event_rows(self, f: SubjectFilter) -> pd.DataFrame:
        return self._rows("adverse_events", f, ["usubjid", "onset_day", "ae_id"])

    def time_to_event(self, f: SubjectFilter, as_of=None) -> pd.DataFrame:
        """At the data cut (the page's default): events and censoring as recorded."""
        assert as_of is None, "the naive source answers at the data cut only"
        cut = pd.Timestamp(self.study()["data_cut_date"])
        s = self._selected(f)
        s = s[s["day1_on"] <= cut]
        cols = ["usubjid", "site_id", "sex", "age", "etiology", "lf_type", "baseline_meld", "baseline_ascites_grade",
                "status", "day1_on"] + (["arm"] if self.sees_arms else [])
        out = s[cols].copy()
        died, transplanted = s["death_on"] <= cut, s["transplant_on"] <= cut
        out["event_type"] = 0
        out.loc[transplanted, "event_type"] = 2
        out.loc[died, "event_type"] = 1
        end = s["last_contact_on"].where(s["last_contact_on"] <= cut)
        end = end.where(~transplanted, s["transplant_on"]).where(~died, s["death_on"])
        out["end_on"] = end.fillna(s["day1_on"])
        out["recensored"] = s["last_contact_on"] > cut
        return out.sort_values("usubjid").reset_index(drop=True)

    def visit_completeness(self, f: SubjectFilter) -> pd.DataFrame:
        cut = pd.Timestamp(self.study()["data_cut_date"])
        sel = self._selected(f)[["usubjid", "day1_on", "last_contact_on"]]
        pairs = sel.merge(self.t["visits"][["visit_num", "visit", "window_hi"]], how="cross")
        limit = pd.concat([sel["last_contact_on"], pd.Series(cut, index=sel.index)], axis=1).min(axis=1)
        pairs["limit"] = pairs["usubjid"].map(dict(zip(sel["usubjid"], limit)))
        closed = pairs["day1_on"] + pd.to_timedelta(pairs["window_hi"] - 1, unit="D") <= pairs["limit"]
        pairs["window_closed"] = (pairs["visit_num"] == 0) | closed
        attended = self.t["ascites"][["usubjid", "visit_num"]].drop_duplicates()
        pairs = pairs.merge(attended, on=["usubjid", "visit_num"], how="left", indicator=True)
        pairs["attended"] = pairs["_merge"] == "both"
        pairs["due"] = pairs["window_closed"] | pairs["attended"]
        out = pairs.groupby(["visit_num", "visit"], as_index=False).agg(expected=("due", "sum"),
                                                                        observed=("attended", "sum"))
        return out[out["expected"] > 0].reset_index(drop=True)

    def patient(self, usubjid: str) -> dict[str, pd.DataFrame]:
        def one(table: str, order: list[str]) -> pd.DataFrame:
            df = self.t[table]
            return df[df["usubjid"] == usubjid].sort_values(order).reset_index(drop=True)

        subject = one("subjects", ["usubjid"])
        infusions = one("infusions", ["infusion_num"])
        if not self.sees_arms:
            subject = subject.drop(columns=["arm"])
            infusions = infusions.drop(columns=["product", "dose_cells_1e6", "volume_ml"])
        return {"subject": subject, "labs": one("lab_results", ["paramcd", "study_day"]), "infusions": infusions,
                "vitals": one("vital_signs", ["infusion_num", "hours_after"]),
                "adverse_events": one("adverse_events", ["onset_day"]), "ascites": one("ascites", ["study_day"])}
