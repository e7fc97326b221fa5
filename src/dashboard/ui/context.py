"""Per-run context handed to pages: the viewer's TrialView, the global filter, the audit log.

``app.py`` builds it once per run (``establish``); pages call ``current()``. Session state holds only
``viewer``, ``subject_filter`` and bookkeeping keys, initialised here in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import streamlit as st

from dashboard import config
from dashboard.access.audit import AuditEvent, AuditLog
from dashboard.access.opening import open_trial_view
from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.data.database import connect_readonly
from dashboard.domain.subject_filter import SubjectFilter


@dataclass(frozen=True)
class PageContext:
    view: TrialView
    subject_filter: SubjectFilter
    audit: AuditLog

    @property
    def viewer(self) -> Viewer:
        return self.view.viewer


@st.cache_resource(max_entries=8, show_spinner=False)
def _connection(path: str, inode: int, mtime_ns: int, randomization: str | None) -> duckdb.DuckDBPyConnection:
    # Keyed by inode and mtime: an atomically swapped-in cut is a new file, so it gets a new connection
    # while sessions still holding the old one keep reading the previous cut until they rerun. Blinded and
    # unblinded sessions never share one: only the latter's has the randomisation attached.
    return connect_readonly(path, randomization)


def connection(path: Path, randomization: Path | None = None) -> duckdb.DuckDBPyConnection:
    stat = os.stat(path)
    return _connection(str(path.resolve()), stat.st_ino, stat.st_mtime_ns,
                       None if randomization is None else str(randomization.resolve()))


def audit_log() -> AuditLog:
    return AuditLog(config.DASHBOARD_AUDIT.value())


def init_session_state() -> None:
    st.session_state.setdefault("viewer", None)
    st.session_state.setdefault("subject_filter", None)
    st.session_state.setdefault("last_activity", None)
    st.session_state.setdefault("last_audited_view", None)


def trial_view(viewer: Viewer, path: Path | None = None) -> TrialView:
    """The viewer's query interface on the current database file (or on a kept earlier cut)."""
    return open_trial_view(viewer, path or config.db_path(), connection)


def establish(view: TrialView, subject_filter: SubjectFilter) -> PageContext:
    ctx = PageContext(view, subject_filter, audit_log())
    st.session_state["_page_context"] = ctx
    return ctx


def current() -> PageContext:
    """The context ``app.py`` established for this run; pages never build their own."""
    ctx = st.session_state.get("_page_context")
    if ctx is None:
        # Streamlit starts in its legacy mode for a pages/ folder until some session calls
        # st.navigation; in that mode a first request for /patient runs the page file without app.py
        # (and without login). Leave that mode and rerun, so app.py's gate handles the request.
        from streamlit.runtime.pages_manager import PagesManager

        if PagesManager.uses_pages_directory:
            PagesManager.uses_pages_directory = False
            st.rerun()
        st.error("This page opens through the dashboard's entry point. Start it with `streamlit run app.py`.")
        st.stop()
    return ctx


def record(ctx: PageContext, name: str, page: str = "", **properties) -> None:
    """Append an audit event for the current viewer."""
    ctx.audit.append(AuditEvent(name, ctx.viewer.username, ctx.viewer.role, page, properties,
                                unblinded=ctx.view.sees_arms))


def audit_page_view(ctx: PageContext, page: str) -> None:
    """Record a page view with its filter, once per change of page or filter (not on every widget rerun)."""
    key = (page, ctx.subject_filter, ctx.view.cut_id)
    if st.session_state.get("last_audited_view") != key:
        record(ctx, "page_view", page, filters=ctx.subject_filter.to_query_params(), cut_id=ctx.view.cut_id,
               blinding=ctx.view.banner)
        st.session_state["last_audited_view"] = key
