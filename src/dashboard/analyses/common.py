"""What every analysis asks of a view and a selection: the arms it can hold, in study order."""

from __future__ import annotations

from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import SubjectFilter


def selected_arms(view: TrialView, f: SubjectFilter) -> list[str]:
    """The arms the selection can hold, in study order (active first, control last); [] for a blinded view.
    An arm left out by the filter is not listed, so it gets no empty rows, curve or failed comparison."""
    return [a for a in view.arms() if not f.arm or a in f.arm]


def groups(view: TrialView, f: SubjectFilter) -> list[str] | None:
    """:func:`selected_arms`, or None for a pooled view (a pooled result names its one group itself)."""
    return selected_arms(view, f) or None


def reference_arm(view: TrialView, f: SubjectFilter) -> str | None:
    """The arm others are compared with: the control arm (last in study order) of the selection."""
    arms = selected_arms(view, f)
    return arms[-1] if arms else None
