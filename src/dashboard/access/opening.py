"""Opening a trial file for a viewer: the randomisation (each patient's arm) is attached only when the viewer
may see arms (DESIGN §4, §8). A blinded session's connection reads the trial file alone, which holds no arm,
so no query of it, however written, can return one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer, sees_arms
from dashboard.data.database import connect_readonly, randomization_path

Connect = Callable[[Path, Path | None], duckdb.DuckDBPyConnection]


def _open(path: Path, randomization: Path | None) -> duckdb.DuckDBPyConnection:
    return connect_readonly(path, randomization)


def open_trial_view(viewer: Viewer, path: str | os.PathLike, connect: Connect = _open) -> TrialView:
    """The viewer's TrialView of the trial file at ``path`` (the current database or a kept cut). ``connect``
    opens a connection for (trial file, randomisation file or None); the app passes its cached one."""
    path = Path(path)
    con = connect(path, None)
    blinded = bool(con.cursor().execute("SELECT blinded FROM trial.study").fetchone()[0])
    if not sees_arms(viewer, blinded):
        return TrialView(con, viewer, path)
    if connect is _open:
        con.close()  # a private probe; a cached connection stays for the next session
    return TrialView(connect(path, randomization_path(path)), viewer, path)
