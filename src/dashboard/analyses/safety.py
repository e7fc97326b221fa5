"""/safety's sections: temperature 0-24 h after infusions, fever incidence, rash and allergy by window,
the reaction listing, the adverse-event tables and listings, safety signals per PT and SOC, time to the
first SAE and SAEs and deaths after an infusion; by arm for the DSMB, pooled otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import selected_arms
from dashboard.domain import POOLED_LABEL, safety
from dashboard.domain import adverse_events as aes
from dashboard.domain import safety_signals as signals
from dashboard.domain.cox import LogrankResult, logrank_test
from dashboard.domain.km import KMResult, km_estimate
from dashboard.domain.safety import FeverIncidence, SafetyTable, TemperatureSummary
from dashboard.domain.safety_signals import SafetySignals
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData


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
    """EAIR (time at risk ends at the first event) and EAER per 100 patient-years of the AE overview's
    categories, the exposure summed in DuckDB."""
    return signals.exposure_adjusted_from_counts(view.ae_exposure_counts(f), arms=_arms(view, f))


@analysis
def sae_listing(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    return aes.sae_listing(view.adverse_event_rows(f), group_col=view.group_col)


@analysis
def death_listing(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    return aes.death_listing(view.subjects(f), view.adverse_event_rows(f), group_col=view.group_col)


@analysis
def last_infusion_before_death(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Per patient of :func:`death_listing`: the last infusion on or before the day of death (``infusion_num``,
    <NA> without one) and the days since it (``days_since``, 0 on the day; <NA> when none or the day of death
    is unknown), by the charter's tested rule (:func:`dashboard.domain.safety_signals.last_infusion`)."""
    deaths = death_listing(view, f)
    found = signals.last_infusion(deaths, view.infusion_rows(f), day_col="death_day")
    return pd.DataFrame({"usubjid": deaths["usubjid"], "infusion_num": found["infusion_num"],
                         "days_since": found["days_since"]})


@analysis
def safety_signals(view: TrialView, f: SubjectFilter) -> SafetySignals:
    """Incidence per PT and SOC (counted in DuckDB) and, for a viewer who sees two arms, RD, RR, Fisher p and
    the double-FDR and BH flags."""
    return signals.signals_from_counts(view.ae_term_counts(f), arms=_arms(view, f))


@analysis
def term_patients(view: TrialView, f: SubjectFilter, soc: str, term: str | None) -> pd.DataFrame:
    """The selected patients with an event of ``term`` of ``soc`` (any PT of ``soc`` when ``term`` is None)."""
    return signals.patients_with_term(view.adverse_event_rows(f), soc=soc, term=term, group_col=view.group_col)


@dataclass(frozen=True)
class FirstSAE:
    """Time to the first SAE: Kaplan-Meier by group and, with two arms and an SAE, the log-rank test."""

    km: KMResult
    logrank: LogrankResult | None
    method: str


@analysis
def time_to_first_sae(view: TrialView, f: SubjectFilter, conf_type: str = "log-log") -> FirstSAE:
    """Kaplan-Meier of the time to the first SAE from study day 1 (censored at the last contact), from one row
    per patient computed in DuckDB."""
    rows = view.first_sae_times(f)
    if rows.empty:
        raise InsufficientData("No patients match the current selection.")
    arms = _arms(view, f)
    km = km_estimate(rows, group_col="group" if arms else None, groups=arms or None, conf_type=conf_type)
    compared = len(arms) == 2 and rows["event"].any()
    logrank = logrank_test(rows, group_col="group", groups=arms) if compared else None
    method = ("Time from study day 1 (first infusion) to the onset of the first serious adverse event; patients "
              "without one are censored at their last contact (a death without an SAE record at death). "
              + km.method + (" Log-rank test as R survdiff." if logrank else ""))
    return FirstSAE(km, logrank, method)


@analysis
def events_after_infusion(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """SAEs and deaths 0-7 and 8-28 days after the patient's last infusion, with the infusion's number."""
    return signals.events_after_infusion(sae_listing(view, f), death_listing(view, f), view.infusion_rows(f))


@analysis
def events_after_infusion_counts(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Patients and events of :func:`events_after_infusion` within 7 and within 28 days, per group."""
    return signals.after_infusion_counts(events_after_infusion(view, f), _arms(view, f) or (POOLED_LABEL,))
