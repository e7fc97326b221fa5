"""Command-line commands, one module each (see dashboard.cli)."""

from __future__ import annotations

import getpass

from dashboard import config
from dashboard.access.audit import AuditEvent, AuditLog


def record_action(name: str, role: str, command: str, **properties) -> None:
    """Record what a command did in the app's audit trail ($DASHBOARD_AUDIT), under the operating-system
    user who ran it: whoever can read the database file can run the commands, so the trail must say who did."""
    AuditLog(config.DASHBOARD_AUDIT.value()).append(
        AuditEvent(name, getpass.getuser(), role, f"cli {command}", properties))
