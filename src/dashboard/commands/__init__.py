"""Command-line commands, one module each (see dashboard.cli).

Commands that read trial data first call :func:`authenticate`: the user and password come from
``DASHBOARD_USER`` / ``DASHBOARD_PASSWORD`` (scripts) or a prompt on the terminal, are checked against the
app's users file with the app's rules (demo accounts only on a simulated trial, the login throttle), and
the command then runs with that user's role. Without a valid login it exits with code 77 (EX_NOPERM,
sysexits.h) before reading any trial data.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard import config
from dashboard.access.audit import AuditEvent, AuditLog
from dashboard.access.users import LoginThrottle, UserStore, write_atomically
from dashboard.access.viewer import Viewer
from dashboard.data.database import connect_readonly

EXIT_NOT_AUTHENTICATED = 77  # EX_NOPERM: the command was not run because no valid login was given
USER_VARIABLE, PASSWORD_VARIABLE = "DASHBOARD_USER", "DASHBOARD_PASSWORD"
CREDENTIALS_HELP = (f"Commands that read trial data log in as a dashboard user: set {USER_VARIABLE} and "
                    f"{PASSWORD_VARIABLE}, or run them in a terminal to be asked.")


class NotAuthenticated(SystemExit):
    """No valid login: the message goes to standard error and the process exits with code 77."""

    def __init__(self, message: str):
        print(f"error: {message}", file=sys.stderr)
        super().__init__(EXIT_NOT_AUTHENTICATED)
        self.message = message


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container without a passwd entry)
        return f"uid {os.getuid()}"


def record_action(name: str, who: Viewer | str, command: str, *, unblinded: bool | None = None, **properties) -> None:
    """Record what a command did in the app's audit trail ($DASHBOARD_AUDIT). ``who`` is the authenticated
    viewer (the event is theirs, with the operating-system user who ran the command beside it) or, for
    commands that do not log in (import, users), a role word: the event is then the operating-system user's.
    ``unblinded``: whether the command's output showed arms (default: decided from the role)."""
    if isinstance(who, Viewer):
        actor, role, properties = who.username, who.role, {**properties, "os_user": _os_user()}
    else:
        actor, role = _os_user(), who
    AuditLog(config.DASHBOARD_AUDIT.value()).append(
        AuditEvent(name, actor, role, f"cli {command}", properties, unblinded=unblinded))


def _simulated(db: str | os.PathLike | None) -> bool:
    """Whether the trial database holds a simulated trial (demo accounts work only then), as the app's login
    asks it; reads the study's ``simulated`` flag and nothing else. A missing default database: not simulated."""
    path = Path(db) if db is not None else config.db_path()
    if not path.exists():
        if db is not None:
            raise FileNotFoundError(f"No trial database at {path}. Run `python -m dashboard simulate` or import a cut.")
        return False
    with connect_readonly(path) as con:
        return bool(con.execute("SELECT simulated FROM study").fetchone()[0])


@contextmanager
def _throttle() -> Iterator[LoginThrottle]:
    """The login throttle's rules for command-line logins, its failures kept in a file beside the users file
    (each command is its own process) and changed under an exclusive lock."""
    users = Path(config.DASHBOARD_USERS.value())
    state = users.with_name(users.name + ".cli-failures.json")
    users.parent.mkdir(parents=True, exist_ok=True)
    with open(users.with_name(users.name + ".cli-failures.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        throttle = LoginThrottle(clock=time.time)
        try:
            saved = json.loads(state.read_text()) if state.exists() else {}
            throttle._failures = {str(k): (int(v[0]), float(v[1])) for k, v in saved.items()}
        except (ValueError, TypeError, IndexError, KeyError):
            pass  # an unreadable file counts no failures (it is rewritten below)
        before = dict(throttle._failures)
        try:
            yield throttle
        finally:  # a refused login leaves by an exception: its failure must be kept all the same
            if throttle._failures != before:
                write_atomically(state, json.dumps(throttle._failures))


def _credentials() -> tuple[str, str]:
    username = os.environ.get(USER_VARIABLE, "")
    password = os.environ.get(PASSWORD_VARIABLE)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if not username:
        if not interactive:
            raise NotAuthenticated(f"not logged in: {USER_VARIABLE} is not set and there is no terminal to ask on. "
                                   + CREDENTIALS_HELP)
        sys.stderr.write("Dashboard username: ")
        sys.stderr.flush()
        username = sys.stdin.readline().strip()
    if password is None:
        if not interactive:
            raise NotAuthenticated(f"not logged in: {PASSWORD_VARIABLE} is not set and there is no terminal to ask "
                                   "on. " + CREDENTIALS_HELP)
        password = getpass.getpass(f"Password for {username}: ")
    return username, password


def authenticate(db: str | os.PathLike | None = None, command: str = "") -> Viewer:
    """The viewer a command runs as: the user of ``DASHBOARD_USER`` / ``DASHBOARD_PASSWORD`` or of a terminal
    prompt, checked as the app's login checks it (users file $DASHBOARD_USERS; demo accounts only while ``db``,
    default $DASHBOARD_DB, holds a simulated trial; the throttle on repeated failures). Raises
    :class:`NotAuthenticated` (exit code 77, message on standard error) without credentials or with wrong
    ones; a failed attempt is recorded in the audit trail as ``login_failure``. Reads no trial data."""
    username, password = _credentials()
    simulated = _simulated(db)
    store = UserStore(config.DASHBOARD_USERS.value())
    if simulated:
        store.ensure_demo_accounts()
    page = f"cli {command}".strip()
    with _throttle() as throttle:
        wait = throttle.wait_seconds(username)
        if wait > 0:
            _login_failure(username, page, "throttled")
            raise NotAuthenticated(f"too many failed logins for {username!r}. Try again in {math.ceil(wait)} s.")
        viewer = store.authenticate(username, password, simulated_trial=simulated)
        if viewer is None:
            throttle.failed(username)
            _login_failure(username, page, "wrong username or password")
            raise NotAuthenticated(f"wrong username or password (from {USER_VARIABLE} / {PASSWORD_VARIABLE} or the "
                                   "prompt). " + CREDENTIALS_HELP)
        throttle.succeeded(username)
    return viewer


def _login_failure(username: str, page: str, reason: str) -> None:
    AuditLog(config.DASHBOARD_AUDIT.value()).append(
        AuditEvent("login_failure", username, "", page, {"reason": reason, "os_user": _os_user()}))
