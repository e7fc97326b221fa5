"""The embedded login: a local users file with salted bcrypt hashes, and a throttle on failed logins.

The file is TOML, one table per user: ``role``, ``hash`` (bcrypt, cost 12), ``display_name`` and
``demo`` (demo accounts work only while the loaded trial is simulated).
"""

from __future__ import annotations

import os
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from dashboard.access.viewer import ROLES, Viewer

BCRYPT_ROUNDS = 12
DEMO_ACCOUNTS = (("dsmb", "dsmb-demo", "dsmb", "DSMB member (demo)"),
                 ("investigator", "investigator-demo", "investigator", "Principal investigator (demo)"),
                 ("datamanager", "datamanager-demo", "data_manager", "Data manager (demo)"))
# bcrypt compares against a dummy hash for unknown users so response time does not reveal who exists.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-user", bcrypt.gensalt(4))


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: str
    hash: str
    display_name: str = ""
    demo: bool = False


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class UserStore:
    """Read and write the users file; every write replaces the file atomically."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict[str, UserRecord]:
        if not self.path.exists():
            return {}
        with open(self.path, "rb") as fh:
            data = tomllib.load(fh)
        return {name: UserRecord(name, u["role"], u["hash"], u.get("display_name", ""), u.get("demo", False))
                for name, u in data.get("users", {}).items()}

    def _save(self, users: dict[str, UserRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for u in sorted(users.values(), key=lambda r: r.username):
            lines += [f'[users."{_escape(u.username)}"]', f'role = "{u.role}"', f'hash = "{u.hash}"',
                      f'display_name = "{_escape(u.display_name)}"', f"demo = {'true' if u.demo else 'false'}", ""]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, username: str, password: str, role: str, display_name: str = "", demo: bool = False) -> None:
        _check_role(role)
        if not username.strip():
            raise ValueError("users add: the username must not be empty")
        users = self.load()
        if username in users:
            raise ValueError(f"users add: {username!r} exists; use set-password or set-role")
        users[username] = UserRecord(username, role, hash_password(password), display_name, demo)
        self._save(users)

    def remove(self, username: str) -> None:
        users = self.load()
        if users.pop(username, None) is None:
            raise ValueError(f"users remove: no user {username!r}")
        self._save(users)

    def set_role(self, username: str, role: str) -> None:
        _check_role(role)
        users = self._existing(username)
        u = users[username]
        users[username] = UserRecord(u.username, role, u.hash, u.display_name, u.demo)
        self._save(users)

    def set_password(self, username: str, password: str) -> None:
        users = self._existing(username)
        u = users[username]
        users[username] = UserRecord(u.username, u.role, hash_password(password), u.display_name, u.demo)
        self._save(users)

    def _existing(self, username: str) -> dict[str, UserRecord]:
        users = self.load()
        if username not in users:
            raise ValueError(f"no user {username!r}; `python -m dashboard users list` shows who exists")
        return users

    def ensure_demo_accounts(self) -> None:
        """Create the three demo accounts if the file does not exist yet (simulated trials only)."""
        if self.path.exists():
            return
        for username, password, role, name in DEMO_ACCOUNTS:
            self.add(username, password, role, name, demo=True)

    def authenticate(self, username: str, password: str, *, simulated_trial: bool) -> Viewer | None:
        """The viewer for a correct password, else None; demo accounts only work on a simulated trial."""
        user = self.load().get(username)
        ok = bcrypt.checkpw(password.encode(), (user.hash if user else _DUMMY_HASH.decode()).encode())
        if not user or not ok or (user.demo and not simulated_trial):
            return None
        return Viewer(user.username, user.role, user.display_name)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("passwords must have at least 8 characters")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


class LoginThrottle:
    """Exponential back-off per username after failed logins (1, 2, 4 ... up to 60 s), shared by sessions."""

    def __init__(self, max_delay: float = 60.0, clock=time.monotonic):
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_delay = max_delay
        self._clock = clock

    def wait_seconds(self, username: str) -> float:
        with self._lock:
            count, last = self._failures.get(username, (0, 0.0))
        if count < 3:
            return 0.0
        delay = min(2.0 ** (count - 3), self._max_delay)
        return max(0.0, last + delay - self._clock())

    def failed(self, username: str) -> None:
        with self._lock:
            count, _ = self._failures.get(username, (0, 0.0))
            self._failures[username] = (count + 1, self._clock())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)
