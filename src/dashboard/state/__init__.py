"""The state store (DESIGN §8): what the dashboard writes, kept apart from the read-only trial data.

:class:`StateStore` (SQLite, ``$DASHBOARD_STATE``) holds the DSMB meetings, report copies and recommendations
on record; :mod:`dashboard.state.migrations` numbers its schema; :mod:`dashboard.state.meeting_reports` builds
a meeting's numbered report copies from the cut it reviews; :mod:`dashboard.state.record_pdf` prints a locked
recommendation.
"""

from dashboard.state.store import StateStore, StateStoreError, UnknownRecord, state_path

__all__ = ["StateStore", "StateStoreError", "UnknownRecord", "state_path"]
