"""Viewers, roles and the one question of what a role may do."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.errors import AccessDenied

ROLES: tuple[str, ...] = ("dsmb", "investigator", "data_manager", "auditor")
ROLE_LABELS = {"dsmb": "DSMB", "investigator": "Investigator", "data_manager": "Data manager", "auditor": "Auditor"}
UNBLINDED_BANNER = "UNBLINDED: DSMB closed session"
BLINDED_BANNER = "BLINDED: pooled data"

# action -> roles allowed. Seeing arms additionally depends on the trial's blinding (see sees_arms).
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_trial": frozenset(ROLES),
    "see_arms_while_blinded": frozenset({"dsmb"}),
    "import_data": frozenset({"data_manager"}),
    "attend_dsmb_meeting": frozenset({"dsmb"}),
    "view_audit": frozenset({"data_manager", "auditor"}),
    # The audit trail whole, arm values and unblinded sessions' details included (others read it redacted).
    "read_whole_audit": frozenset({"dsmb", "auditor"}),
}


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    display_name: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Viewer: role must be one of {', '.join(ROLES)}, got {self.role!r}")

    @property
    def label(self) -> str:
        return f"{self.display_name or self.username} ({ROLE_LABELS[self.role]})"


def allowed(viewer: Viewer, action: str) -> bool:
    """Whether ``viewer``'s role may perform ``action`` (an unknown action is never allowed)."""
    return viewer.role in PERMISSIONS.get(action, frozenset())


def require(viewer: Viewer, action: str) -> None:
    """Raise AccessDenied unless the viewer may perform ``action``."""
    if not allowed(viewer, action):
        raise AccessDenied(f"{viewer.label} may not {action.replace('_', ' ')}. Ask the trial's data manager for access.")


def sees_arms(viewer: Viewer, trial_blinded: bool) -> bool:
    """Arms are visible to the DSMB while the trial is blinded, and to every role once it is unblinded."""
    return (not trial_blinded) or allowed(viewer, "see_arms_while_blinded")


def blinding_banner(viewer: Viewer, trial_blinded: bool) -> str:
    """The words every page and export carries about the viewer's blinding state."""
    if not sees_arms(viewer, trial_blinded):
        return BLINDED_BANNER
    return UNBLINDED_BANNER if trial_blinded else "UNBLINDED: trial unblinded"
