"""Commands that read trial data log in (``DASHBOARD_USER`` / ``DASHBOARD_PASSWORD``): a users file with one
user per role for tests, with cheap bcrypt hashes, and the environment of a script logged in as one of them."""

from __future__ import annotations

from pathlib import Path

import bcrypt

from dashboard.access.viewer import ROLES


def password_of(role: str) -> str:
    return f"{role}-test-passphrase"


def username_of(role: str) -> str:
    return f"cli-{role}".replace("_", "-")


def write_users(path: Path) -> Path:
    """Add one user per role (``cli-dsmb``, ``cli-investigator``, ``cli-data-manager``, ``cli-auditor``) to the
    users file, keeping the users already in it (the demo accounts the app created, say)."""
    text = path.read_text() if path.exists() else ""
    lines = [text.rstrip("\n"), ""] if text.strip() else []
    for role in ROLES:
        if f'[users."{username_of(role)}"]' in text:
            continue
        hashed = bcrypt.hashpw(password_of(role).encode(), bcrypt.gensalt(4)).decode()
        lines += [f'[users."{username_of(role)}"]', f'role = "{role}"', f'hash = "{hashed}"',
                  f'display_name = "Test {role}"', "demo = false", ""]
    path.write_text("\n".join(lines))
    return path


def log_in(monkeypatch, tmp_path: Path, role: str = "dsmb") -> str:
    """Set the environment so commands run as the test user of ``role``; returns the username."""
    users = write_users(tmp_path / "users.toml")  # the file app_env points the app at too
    monkeypatch.setenv("DASHBOARD_USERS", str(users))
    monkeypatch.setenv("DASHBOARD_USER", username_of(role))
    monkeypatch.setenv("DASHBOARD_PASSWORD", password_of(role))
    return username_of(role)


def log_out(monkeypatch) -> None:
    monkeypatch.delenv("DASHBOARD_USER", raising=False)
    monkeypatch.delenv("DASHBOARD_PASSWORD", raising=False)
