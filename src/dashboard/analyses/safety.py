"""/safety's sections: temperature 0-24 h after infusions, fever incidence, rash and allergy by window,
the reaction listing and the adverse-event tables and listings; by arm for the DSMB, pooled otherwise."""

from __future__ import annotations

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import selected_arms
from dashboard.domain import adverse_events as aes
from dashboard.domain import safety
from dashboard.domain.charter import days_since_last_infusion
from dashboard.domain.safety import FeverIncidence, SafetyTable, TemperatureSummary
from dashboard.domain.subject_filter import SubjectFilter


def _arms(view: TrialView, f: SubjectFilter) -> tuple[str, ...]:
    return tuple(selected_arms(view, f))


@analysis
def temperature_by_hour(view: TrialView, f: SubjectFilter) -> TemperatureSummary:
    """Aggregated in DuckDB (one value per patient and time point first)."""
    return safety.temperature_from_aggregates(view.temperature_summary(f), arms=_arms(view, f))


@analysis
def temperature_readings(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Every patient's readings, for the figure's individual lines."""
    return safety.temperature_readings(view.vital_rows(f), group_col=view.group_col)


@analysis
def fever_incidence(view: TrialView, f: SubjectFilter) -> tuple[FeverIncidence, ...]:
    """Fever after infusions at each threshold of ``safety.FEVER_THRESHOLDS``, counted in DuckDB."""
    counts = view.fever_counts(f)
    return tuple(safety.fever_from_counts(counts, threshold=t, arms=_arms(view, f)) for t in safety.FEVER_THRESHOLDS)


@analysis
def infusion_numbers(view: TrialView, f: SubjectFilter) -> tuple[int, ...]:
    return tuple(int(n) for n in sorted(view.infusion_rows(f)["infusion_num"].unique()))


@analysis
def reactions_by_window(view: TrialView, f: SubjectFilter, infusion_num: int | None = None) -> SafetyTable:
    return safety.reactions_by_window(view.adverse_event_rows(f), group_col=view.group_col, arms=_arms(view, f),
                                      infusion_num=infusion_num)


@analysis
def reaction_listing(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    return safety.reaction_listing(view.vital_rows(f), view.adverse_event_rows(f), group_col=view.group_col)


@analysis
def ae_overview(view: TrialView, f: SubjectFilter) -> SafetyTable:
    """Patients and events per AE category, counted in DuckDB."""
    return aes.ae_overview_from_counts(view.ae_overview_counts(f), arms=_arms(view, f))


@analysis
def ae_by_soc_pt(view: TrialView, f: SubjectFilter) -> SafetyTable:
    return aes.ae_by_soc_pt(view.adverse_event_rows(f), view.subjects(f), group_col=view.group_col)


@analysis
def ae_by_worst_grade(view: TrialView, f: SubjectFilter) -> SafetyTable:
    return aes.ae_by_worst_grade(view.adverse_event_rows(f), view.subjects(f), group_col=view.group_col)


@analysis
def exposure_adjusted_rates(view: TrialView, f: SubjectFilter) -> SafetyTable:
    """Events and patients per 100 patient-years of the AE overview's categories (counted in DuckDB)."""
    return aes.exposure_adjusted_rates(ae_overview(view, f), view.subjects(f), group_col=view.group_col,
                                       exposure_col="days_on_study")


@analysis
def sae_listing(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    return aes.sae_listing(view.adverse_event_rows(f), group_col=view.group_col)


@analysis
def death_listing(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    return aes.death_listing(view.subjects(f), view.adverse_event_rows(f), group_col=view.group_col)


@analysis
def last_infusion_before_death(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Per patient of :func:`death_listing`: the last infusion on or before the day of death (``infusion_num``,
    None without one) and the days since it (``days_since``, 0 on the day; <NA> when none or the day of death
    is unknown), by the charter's tested rule (:func:`dashboard.domain.charter.days_since_last_infusion`)."""
    deaths = death_listing(view, f)
    infusions = view.infusion_rows(f)
    infusions = infusions[infusions["usubjid"].isin(set(deaths["usubjid"]))]
    since = days_since_last_infusion(deaths, infusions, day_col="death_day")
    given_on = deaths["death_day"] - since.astype("Float64")
    last = infusions.groupby(["usubjid", "study_day"])["infusion_num"].max()
    numbers = [None if pd.isna(day) else last.get((usubjid, int(day))) for usubjid, day in zip(deaths["usubjid"], given_on)]
    return pd.DataFrame({"usubjid": deaths["usubjid"], "infusion_num": numbers, "days_since": since})
