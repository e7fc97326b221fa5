"""The append-only audit trail: logins, page views with their filters, exports.

Kept as JSON lines in its own file, outside the trial database (viewers open that read-only), so it
survives restarts and data cuts. Appends take an exclusive lock and fsync; nothing ever rewrites a
line. Events never carry a password: the event constructor accepts only the fields listed here.

Every event records whether it came from an unblinded session (``unblinded``). What a reader gets is decided
here, in one place (:meth:`AuditLog.read_for`): the DSMB and the auditor read the trail whole; anyone else
reads it redacted, so that it is no side channel to the arms. An unblinded session's event keeps who, when,
which kind of action and page, but its details (filters, patient ids, file names, ...) read "[DSMB view]";
every arm criterion is dropped and every arm name replaced by "[arm]".
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from dashboard.access.viewer import PERMISSIONS, Viewer, allowed, require

EVENT_NAMES = ("login_success", "login_failure", "logout", "session_expired", "page_view", "export", "import",
               "access_denied", "user_admin", "dsmb_meeting")
COLUMNS = ["created", "name", "actor", "role", "page", "properties", "unblinded"]
DSMB_VIEW = "[DSMB view]"
ARM_REDACTED = "[arm]"
ARM_KEYS = frozenset({"arm", "arms"})


def _unblinded_by_default(role: str, properties: dict) -> bool:
    """An event's session was unblinded if its role sees arms while the trial is blinded, or if the event
    says so (page views and decks carry the session's blinding words, "UNBLINDED: ...")."""
    return role in PERMISSIONS["see_arms_while_blinded"] or str(properties.get("blinding", "")).startswith("UNBLINDED")


@dataclass(frozen=True)
class AuditEvent:
    name: str
    actor: str
    role: str
    page: str = ""
    properties: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    # Whether the event came from a session that saw arms; None: decided from the role and the properties.
    unblinded: bool | None = None

    def __post_init__(self) -> None:
        if self.name not in EVENT_NAMES:
            raise ValueError(f"AuditEvent: name must be one of {', '.join(EVENT_NAMES)}, got {self.name!r}")
        if any("password" in str(k).lower() for k in self.properties):
            raise ValueError("AuditEvent: properties must never hold a password")
        if self.unblinded is None:
            object.__setattr__(self, "unblinded", _unblinded_by_default(self.role, self.properties))


class AuditLog:
    """Append and read the audit file at ``path``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def append(self, event: AuditEvent) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(event), sort_keys=True, default=str) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        for row in rows:
            props = row.get("properties") if isinstance(row.get("properties"), dict) else {}
            if not isinstance(row.get("unblinded"), bool):  # written before events recorded it
                row["unblinded"] = _unblinded_by_default(str(row.get("role", "")), props)
        return rows

    @staticmethod
    def _frame(rows: list[dict], since: datetime | None) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=COLUMNS)
        if since is not None and len(df):
            since_utc = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            df = df[pd.to_datetime(df["created"], utc=True) >= since_utc]
        df["properties"] = df["properties"].map(lambda p: json.dumps(p, sort_keys=True) if isinstance(p, dict) else p)
        df["unblinded"] = df["unblinded"].astype(bool)
        return df.reset_index(drop=True)

    def read(self, since: datetime | None = None) -> pd.DataFrame:
        """All events (optionally from ``since``, UTC), oldest first, unredacted: for the app's own bookkeeping
        and tests. What a person reads goes through :meth:`read_for`."""
        return self._frame(self._rows(), since)

    def read_for(self, viewer: Viewer, since: datetime | None = None, *, trial_blinded: bool = True,
                 arm_names: Iterable[str] = ()) -> pd.DataFrame:
        """The events ``viewer`` may read (optionally from ``since``, UTC), oldest first.

        The DSMB and the auditor read the trail whole, as does everyone allowed to read it once the trial is
        unblinded. Anyone else (the data manager) reads it redacted (see :func:`redact`), with ``arm_names``
        and every arm value an event's arm criterion holds replaced. Raises AccessDenied for a role that may
        not read the trail."""
        whole = allowed(viewer, "read_whole_audit")
        if not whole:
            require(viewer, "view_audit")
        rows = self._rows()
        if whole or not trial_blinded:
            return self._frame(rows, since)
        names = set(arm_names) | arm_values(rows)
        return self._frame([redact(row, names) for row in rows], since)


def arm_values(rows: Iterable[dict]) -> set[str]:
    """Every arm value the events' arm criteria hold (filters ``arm=A,B`` and the like), at any depth."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if str(key).lower() in ARM_KEYS:
                    items = item if isinstance(item, list | tuple) else str(item).split(",")
                    found.update(str(v).strip() for v in items if str(v).strip())
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for row in rows:
        walk(row.get("properties"))
    return found


def _scrubber(arm_names: Iterable[str]):
    names = sorted({n for n in arm_names if n}, key=len, reverse=True)
    if not names:
        return lambda text: text
    # Whole names only (not letters inside words), so a short arm name does not blank unrelated text.
    pattern = re.compile("(?<![A-Za-z0-9])(?:" + "|".join(re.escape(n) for n in names) + ")(?![A-Za-z0-9])",
                         re.IGNORECASE)
    return lambda text: pattern.sub(ARM_REDACTED, text)


def redact(event: dict, arm_names: Iterable[str]) -> dict:
    """The event as a reader who may not see arms gets it: an unblinded session's details become
    "[DSMB view]" (who, when, kind of action and page stay); elsewhere arm criteria are dropped; arm names
    anywhere become "[arm]"."""
    scrub = _scrubber(arm_names)

    def clean(value):
        if isinstance(value, dict):
            return {scrub(str(k)): clean(v) for k, v in value.items() if str(k).lower() not in ARM_KEYS}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return scrub(value) if isinstance(value, str) else value

    out = {key: (scrub(value) if isinstance(value, str) else value) for key, value in event.items()}
    properties = event.get("properties")
    out["properties"] = DSMB_VIEW if event.get("unblinded") else clean(properties if properties is not None else {})
    return out

