"""First start: build the demo trial when no database exists, showing progress while it runs."""

from __future__ import annotations

import streamlit as st

from dashboard import config
from dashboard.access.users import UserStore
from dashboard.commands.simulate import build
from dashboard.data.database import connect_readonly
from dashboard.data.simulate import SimulationSettings


def ensure_database() -> bool:
    """Make sure the trial database exists; return whether it holds a simulated trial."""
    path = config.db_path()
    if not path.exists():
        with st.status("Building the simulated demo trial (70 patients)...", expanded=True) as status:
            build(SimulationSettings(), str(path), progress=st.write)
            status.update(label="Demo trial ready", state="complete")
    with connect_readonly(path) as con:
        simulated = bool(con.execute("SELECT simulated FROM study").fetchone()[0])
    if simulated:
        UserStore(config.DASHBOARD_USERS.value()).ensure_demo_accounts()
    return simulated
