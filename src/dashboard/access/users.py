"""The embedded login: a local users file with salted bcrypt hashes, and a throttle on failed logins.

The file is TOML, one table per user: ``role``, ``hash`` (bcrypt, cost 12), ``display_name`` and
``demo`` (demo accounts work only while the loaded trial is simulated).
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import bcrypt

from dashboard.access.viewer import ROLES, Viewer

BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 12
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}")
# Demo-only accounts with short published passwords: they bypass the password policy and only work while
# the loaded trial is simulated (see authenticate).
DEMO_ACCOUNTS = (("dsmb", "dsmb-demo", "dsmb", "DSMB member (demo)"),
                 ("dsmb2", "dsmb2-demo", "dsmb", "DSMB member 2 (demo)"),
                 ("investigator", "investigator-demo", "investigator", "Principal investigator (demo)"),
                 ("datamanager", "datamanager-demo", "data_manager", "Data manager (demo)"))
# Every entry of 12 or more characters in SecLists' Passwords/Common-Credentials/10-million-password-list-top-10000.txt
# (the shorter ones already fail the length rule), plus a few obvious patterns; compared case-insensitively.
COMMON_PASSWORDS = frozenset("""
1qaz2wsx3edc q1w2e3r4t5y6 1q2w3e4r5t6y 123456654321 qwerty123456 123456qwerty qwertyqwerty qazwsxedcrfv
123qweasdzxc qwerasdfzxcv 1qazxsw23edc gfhjkmgfhjkm 123456789qwe qazwsxedc123 leavemealone zxcasdqwe123
ghjcnjgfhjkm 1234567890qwe 1qazzaq1qazzaq
password1234 password12345 password123456 passwordpassword 123456789012 1234567890123 qwertyuiop12
qwertyuiopasdf iloveyou1234 abcdefghijkl abc123456789 changeme1234 welcome12345 letmein12345 administrator
""".split())
# bcrypt compares against a dummy hash for unknown users so response time does not reveal who exists.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-user", bcrypt.gensalt(4))


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: str
    hash: str
    display_name: str = ""
    demo: bool = False


def check_username(username: str) -> None:
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValueError(f"usernames have 1 to 64 letters, digits and . _ @ - (no spaces, quotes or =), got {username!r}")


def check_password(password: str, username: str) -> None:
    """Refuse passwords shorter than 12 characters (surrounding whitespace not counted), common ones, ones with
    fewer than 5 different characters, and ones that are the username or little more than it."""
    core = password.strip()
    if len(core) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords must have at least {MIN_PASSWORD_LENGTH} characters besides surrounding spaces")
    folded, name = core.casefold(), username.casefold()
    if folded in COMMON_PASSWORDS or len(set(folded)) < 5:
        raise ValueError("this password is too common or too simple; choose a longer passphrase")
    if name and len(name) >= 3 and len(folded.replace(name, "", 1)) < MIN_PASSWORD_LENGTH:
        raise ValueError("the password must not be the username or the username with a few characters added")


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a unique temporary file beside it (mode 0600, as mkstemp makes
    it), so concurrent writers never share a temporary file and readers see the old or the new file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    escaped = (f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else "\\" + c if c in '"\\' else c for c in value)
    return '"' + "".join(escaped) + '"'


class UserStore:
    """Read and write the users file. Every change is read-modify-write under an exclusive lock on a lock file
    beside it (fcntl.flock, so concurrent sessions and processes serialise) and replaces the file atomically
    through a unique temporary file in the same directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict[str, UserRecord]:
        if not self.path.exists():
            return {}
        with open(self.path, "rb") as fh:
            data = tomllib.load(fh)
        return {name: UserRecord(name, u["role"], u["hash"], u.get("display_name", ""), u.get("demo", False))
                for name, u in data.get("users", {}).items()}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, UserRecord]]:
        """The users under an exclusive lock; changes made to the dict are saved when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            users = self.load()
            before = dict(users)
            yield users
            if users != before:
                self._save(users)

    def _save(self, users: dict[str, UserRecord]) -> None:
        lines = []
        for u in sorted(users.values(), key=lambda r: r.username):
            lines += [f"[users.{_toml_string(u.username)}]", f"role = {_toml_string(u.role)}", f"hash = {_toml_string(u.hash)}",
                      f"display_name = {_toml_string(u.display_name)}", f"demo = {'true' if u.demo else 'false'}", ""]
        write_atomically(self.path, "\n".join(lines))

    def add(self, username: str, password: str, role: str, display_name: str = "") -> None:
        _check_role(role)
        check_username(username)
        check_password(password, username)
        hashed = hash_password(password)
        with self._locked() as users:
            if username in users:
                raise ValueError(f"users add: {username!r} exists; use set-password or set-role")
            users[username] = UserRecord(username, role, hashed, display_name)

    def remove(self, username: str) -> None:
        with self._locked() as users:
            if users.pop(username, None) is None:
                raise ValueError(f"users remove: no user {username!r}")

    def set_role(self, username: str, role: str) -> None:
        _check_role(role)
        with self._locked() as users:
            users[username] = replace(_existing(users, username), role=role)

    def set_password(self, username: str, password: str) -> None:
        check_password(password, username)
        hashed = hash_password(password)
        with self._locked() as users:
            users[username] = replace(_existing(users, username), hash=hashed)

    def ensure_demo_accounts(self) -> None:
        """Create the demo accounts if the users file does not exist yet (simulated trials only).

        Idempotent under concurrency: the first of several simultaneous first logins writes them, the others
        find them under the lock and leave the file alone."""
        if self.path.exists():
            return
        demo = {name: UserRecord(name, role, hash_password(password), display, demo=True)
                for name, password, role, display in DEMO_ACCOUNTS}
        with self._locked() as users:
            if not self.path.exists():
                users.update(demo)

    def authenticate(self, username: str, password: str, *, simulated_trial: bool) -> Viewer | None:
        """The viewer for a correct password, else None; demo accounts only work on a simulated trial."""
        user = self.load().get(username)
        ok = bcrypt.checkpw(password.encode(), (user.hash if user else _DUMMY_HASH.decode()).encode())
        if not user or not ok or (user.demo and not simulated_trial):
            return None
        return Viewer(user.username, user.role, user.display_name)


def _existing(users: dict[str, UserRecord], username: str) -> UserRecord:
    if username not in users:
        raise ValueError(f"no user {username!r}; `python -m dashboard users list` shows who exists")
    return users[username]


def hash_password(password: str) -> str:
    """The bcrypt hash; the policy is check_password's (the demo accounts skip it)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


class LoginThrottle:
    """Back-off after repeated failed logins, per username and per client address, shared by all sessions.

    A key's first ``free`` failures cost nothing (3 for a username, 10 for an address, which several people
    behind one proxy may share); each later one makes the key wait 1, 2, 4 ... up to ``max_delay`` seconds
    after it. Attempts refused while waiting are not failures, so nobody is locked out for longer than the
    current back-off. A key's failures are forgotten ``forget_after`` seconds after its last one, and a
    successful login forgets its username's (not its address's, or one valid account could reset an
    address that guesses other usernames).
    """

    def __init__(self, max_delay: float = 60.0, clock=time.monotonic, forget_after: float = 900.0,
                 free_per_user: int = 3, free_per_address: int = 10):
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._max_delay = max_delay
        self._clock = clock
        self._forget_after = forget_after
        self._free = {"user": free_per_user, "addr": free_per_address}

    @staticmethod
    def _keys(username: str, address: str | None) -> list[str]:
        return [f"user:{username}"] + ([f"addr:{address}"] if address else [])

    def _count(self, key: str, now: float) -> tuple[int, float]:
        count, last = self._failures.get(key, (0, 0.0))
        return (count, last) if now - last < self._forget_after else (0, 0.0)

    def wait_seconds(self, username: str, address: str | None = None) -> float:
        """Seconds before the next attempt for this username from this address may be checked."""
        now = self._clock()
        waits = [0.0]
        with self._lock:
            for key in self._keys(username, address):
                count, last = self._count(key, now)
                excess = count - self._free[key.split(":", 1)[0]]
                if excess >= 0:
                    waits.append(last + min(2.0 ** excess, self._max_delay) - now)
        return max(waits)

    def failed(self, username: str, address: str | None = None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(username, address):
                self._failures[key] = (self._count(key, now)[0] + 1, now)
            if len(self._failures) > 10_000:  # a flood of made-up usernames must not grow memory for ever
                self._failures = {k: v for k, v in self._failures.items() if now - v[1] < self._forget_after}

    def succeeded(self, username: str, address: str | None = None) -> None:
        with self._lock:
            self._failures.pop(f"user:{username}", None)
