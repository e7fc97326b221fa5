"""/overview's sections: enrolment against plan, disposition, follow-up completeness, and what is new
since the previous kept cut."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.domain.overview import disposition, enrolment_progress, follow_up_completeness
from dashboard.domain.subject_filter import SubjectFilter


@dataclass(frozen=True)
class StudyStatus:
    """Enrolment against the linear plan, disposition (n, % per group) and follow-up completeness."""

    n_selected: int
    planned_n: int
    enrolment: pd.DataFrame
    disposition: pd.DataFrame
    completeness: pd.DataFrame


@analysis
def study_status(view: TrialView, f: SubjectFilter) -> StudyStatus:
    subjects = view.subject_dates(f)
    study = view.study()
    progress = enrolment_progress(subjects, planned_n=int(study["planned_n"]), start=study["enrolment_start"],
                                  months=float(study["enrolment_months"]), group_col=view.group_col)
    return StudyStatus(len(subjects), int(study["planned_n"]), progress,
                       disposition(subjects, group_col=view.group_col),
                       follow_up_completeness(view.visit_completeness(f)))
