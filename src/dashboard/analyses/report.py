"""The standard DSMB report tables (issue 16): CONSORT flow, enrolment against plan, exposure and
compliance, dose, protocol deviations, baseline characteristics, data completeness.

Each function is ``(view, f) -> DataFrame`` of machine-readable numbers, by arm (arms in study order, then
``Total``) for a viewer who sees arms and pooled (``All patients``, no arm) otherwise; the matching
``*_display`` formatter in the domain module writes the publication table, and
:func:`dashboard.domain.disclosure.suppress_small_cells` is the one small-cell control for pooled tables.
The open and closed PDF reports and the pages call these, so a number is computed once.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import selected_arms
from dashboard.domain import POOLED_LABEL
from dashboard.domain.baseline import BASELINE_LABS, baseline_table
from dashboard.domain.consort import ALL_SITES, consort_flow, enrolment_against_plan
from dashboard.domain.deviations import completeness_table, deviation_table
from dashboard.domain.exposure import blinded_dose_table, compliance_table, dose_table
from dashboard.domain.report_format import TOTAL_LABEL
from dashboard.domain.subject_filter import SubjectFilter


@analysis
def consort(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """CONSORT flow: ``stage``, ``label``, ``group``, ``n``, ``pct`` (of randomised), ``note`` (screening is not
    recorded). Display: :func:`dashboard.domain.consort.consort_display`."""
    return consort_flow(view.report_consort_counts(f), selected_arms(view, f))


@analysis
def enrolment(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Enrolment against the linear plan by site and month: ``site_id`` (``All sites`` too), ``month``, ``n``,
    ``cumulative``, ``planned_cumulative``, ``difference``. Display: ``consort.enrolment_display``."""
    study = view.study()
    sites = [s for s in view.filter_choices().get("site", ()) if not f.site or s in f.site]
    return enrolment_against_plan(view.report_enrolment_counts(f), planned_n=study.get("planned_n"),
                                  start=study.get("enrolment_start"), months=study.get("enrolment_months"),
                                  cut_date=study["data_cut_date"], sites=sites)


@analysis
def exposure(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Infusion compliance per group and infusion: ``exposure.COMPLIANCE_COLUMNS`` (due, received, delayed,
    missed, not due by reason). Display: ``exposure.compliance_display``."""
    return compliance_table(view.report_infusion_compliance(f), selected_arms(view, f))


@analysis
def dose(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Dose received vs planned per arm and infusion (``exposure.DOSE_COLUMNS``), for viewers who see arms;
    for anyone else no rows and ``attrs["note"]`` saying why (the dose reveals the arm). Display:
    ``exposure.dose_display``."""
    if view.group_col is None:
        return blinded_dose_table()
    return dose_table(view.report_dose_summary(f), selected_arms(view, f))


def _completeness_by_site(view: TrialView, f: SubjectFilter, arm: str | None = None) -> pd.DataFrame:
    """``visit_completeness`` (the one definition of a visit due) per selected site and for all sites, within
    ``arm`` when given: ``site_id``, ``visit_num``, ``visit``, ``expected``, ``observed``."""
    base = f if arm is None else replace(f, arm=(arm,))
    sites = [s for s in view.filter_choices().get("site", ()) if not f.site or s in f.site]
    parts = [view.visit_completeness(replace(base, site=(site,))).assign(site_id=site) for site in sites]
    parts.append(view.visit_completeness(base).assign(site_id=ALL_SITES))
    cols = ["site_id", "visit_num", "visit", "expected", "observed"]
    return pd.concat([p[cols] for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=cols)


@analysis
def deviations(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Protocol deviations by site (and group): ``deviations.DEVIATION_COLUMNS`` for eligibility, visit
    windows and missed assessments. Display: ``deviations.deviation_display``."""
    arms = selected_arms(view, f)
    missed = []
    for arm in arms:
        missed.append(_completeness_by_site(view, f, arm).assign(group=arm))
    missed.append(_completeness_by_site(view, f).assign(group=TOTAL_LABEL if arms else POOLED_LABEL))
    return deviation_table(view.report_eligibility_counts(f), view.report_visit_window_counts(f),
                           pd.concat(missed, ignore_index=True), arms)


@analysis
def baseline(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Baseline characteristics per group with standardised differences when two arms are shown:
    ``baseline.BASELINE_COLUMNS``. Display: ``baseline.baseline_display``."""
    present = set(view.lab_parameters()["paramcd"])
    paramcds = tuple(c for c in BASELINE_LABS if c in present)
    return baseline_table(view.report_baseline_continuous(f, paramcds), view.report_baseline_categorical(f),
                          selected_arms(view, f), paramcds)


@analysis
def completeness(view: TrialView, f: SubjectFilter) -> pd.DataFrame:
    """Data completeness by visit and site (pooled for everyone): ``deviations.COMPLETENESS_COLUMNS``.
    Display: ``deviations.completeness_display``."""
    return completeness_table(_completeness_by_site(view, f))
