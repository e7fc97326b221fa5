"""The append-only audit trail: logins, page views with their filters, exports.

Kept as JSON lines in its own file, outside the trial database (viewers open that read-only), so it
survives restarts and data cuts. Appends take an exclusive lock and fsync; nothing ever rewrites a
line. Events never carry a password: the event constructor accepts only the fields listed here.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

EVENT_NAMES = ("login_success", "login_failure", "logout", "session_expired", "page_view", "export", "import",
               "access_denied", "user_admin")


@dataclass(frozen=True)
class AuditEvent:
    name: str
    actor: str
    role: str
    page: str = ""
    properties: dict = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        if self.name not in EVENT_NAMES:
            raise ValueError(f"AuditEvent: name must be one of {', '.join(EVENT_NAMES)}, got {self.name!r}")
        if any("password" in str(k).lower() for k in self.properties):
            raise ValueError("AuditEvent: properties must never hold a password")


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

    def read(self, since: datetime | None = None) -> pd.DataFrame:
        """All events (optionally from ``since``, UTC), oldest first."""
        columns = ["created", "name", "actor", "role", "page", "properties"]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        with open(self.path, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        df = pd.DataFrame(rows, columns=columns)
        if since is not None and len(df):
            since_utc = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            df = df[pd.to_datetime(df["created"], utc=True) >= since_utc]
        df["properties"] = df["properties"].map(lambda p: json.dumps(p, sort_keys=True) if isinstance(p, dict) else p)
        return df.reset_index(drop=True)
