"""Settings declared once with their help text; the CLI and the README reuse them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    def value(self) -> str:
        return os.environ.get(self.name, self.default)


DASHBOARD_DB = Setting("DASHBOARD_DB", "data/trial.duckdb", "Trial database the app reads (DuckDB file).")
DASHBOARD_RANDOMIZATION = Setting(
    "DASHBOARD_RANDOMIZATION", "",
    "Randomisation file of DASHBOARD_DB (each patient's arm, kept apart; only unblinded sessions attach it). "
    "Default: beside it, <name>.randomization.duckdb.")
DASHBOARD_USERS = Setting("DASHBOARD_USERS", "data/users.toml", "Local users file (salted bcrypt hashes) for embedded login.")
DASHBOARD_AUDIT = Setting("DASHBOARD_AUDIT", "data/audit.jsonl", "Append-only audit trail, kept outside the trial database.")
DASHBOARD_AUTH = Setting("DASHBOARD_AUTH", "local",
                         "Login method: 'local' (users file) or 'oidc' (st.login, .streamlit/secrets.toml).")
DASHBOARD_OIDC_ROLES = Setting("DASHBOARD_OIDC_ROLES", "data/oidc_roles.toml", "OIDC e-mail to role mapping.")
DASHBOARD_STATE = Setting("DASHBOARD_STATE", "data/state.sqlite",
                           "State store (SQLite, WAL): DSMB meetings, report copies, recommendations on record.")
DASHBOARD_IDLE_MINUTES = Setting("DASHBOARD_IDLE_MINUTES", "30", "Minutes of inactivity after which a session is logged out.")

SETTINGS = (DASHBOARD_DB, DASHBOARD_RANDOMIZATION, DASHBOARD_USERS, DASHBOARD_AUDIT, DASHBOARD_AUTH,
            DASHBOARD_OIDC_ROLES, DASHBOARD_IDLE_MINUTES, DASHBOARD_STATE)


def db_path() -> Path:
    return Path(DASHBOARD_DB.value())
