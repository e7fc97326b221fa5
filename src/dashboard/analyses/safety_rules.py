"""The DSMB charter's safety rules at this cut (for /monitoring): each rule's counts and whether it is met;
by arm for the DSMB, pooled for blinded viewers (``view.group_col`` is None then)."""

from __future__ import annotations

from dashboard.access.trial_view import TrialView
from dashboard.analyses import analysis
from dashboard.analyses.common import selected_arms
from dashboard.domain.charter import Charter, RuleResult, evaluate_safety_rules, safety_events
from dashboard.domain.subject_filter import SubjectFilter


@analysis
def safety_rules(view: TrialView, f: SubjectFilter, charter: Charter | None = None) -> tuple[RuleResult, ...]:
    """Every safety rule of ``charter`` (default the cut's) evaluated on the selected patients; () without one."""
    charter = charter or view.charter()
    if charter is None or not charter.safety_rules:
        return ()
    events = safety_events(view.subjects(f), view.infusion_rows(f), view.adverse_event_rows(f),
                           group_col=view.group_col)
    return evaluate_safety_rules(charter.safety_rules, events, view.group_col, arms=tuple(selected_arms(view, f)))
