"""Login before any data: the local users form (default) or OpenID Connect (``st.login``), and logout."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone

import streamlit as st

from dashboard import config
from dashboard.access.audit import AuditEvent
from dashboard.access.oidc import load_role_map, viewer_for_identity
from dashboard.access.users import LoginThrottle, UserStore
from dashboard.access.viewer import Viewer
from dashboard.ui.context import audit_log


@st.cache_resource
def login_throttle() -> LoginThrottle:
    # One throttle for the whole server: failures from any session slow down the same username.
    return LoginThrottle()


def _client_address() -> str | None:
    """The browser's address as Streamlit sees it (None in tests, or when unknown). Behind a reverse proxy
    this is the proxy's address unless the proxy passes the client's on."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no context outside a session; the username throttle still applies
        return None


def _audit(name: str, username: str, role: str = "", **properties) -> None:
    audit_log().append(AuditEvent(name, username, role, "login", properties))


def login_page(simulated_trial: bool) -> None:
    """The only page an anonymous visitor can open."""
    st.title("UC-MSC liver-failure trial dashboard")
    if config.DASHBOARD_AUTH.value() == "oidc":
        st.write("Sign in with your organisation account.")
        if st.button("Log in", type="primary", key="login_oidc"):
            st.login()
        return
    with st.form("login_form"):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if simulated_trial:
        st.caption("Demo trial: accounts dsmb / dsmb-demo, investigator / investigator-demo, "
                   "datamanager / datamanager-demo (demo only).")
    if not submitted:
        return
    throttle, address = login_throttle(), _client_address()
    wait = throttle.wait_seconds(username, address)
    if wait > 0:
        st.error(f"Too many failed attempts. Try again in {math.ceil(wait)} s.")
        _audit("login_failure", username, reason="throttled")
        return
    viewer = UserStore(config.DASHBOARD_USERS.value()).authenticate(username, password, simulated_trial=simulated_trial)
    if viewer is None:
        throttle.failed(username, address)
        _audit("login_failure", username, reason="wrong username or password")
        st.error("Wrong username or password.")
        return
    throttle.succeeded(username, address)
    _audit("login_success", viewer.username, viewer.role)
    st.session_state["viewer"] = viewer
    st.session_state["last_activity"] = time.time()
    st.rerun()


def gate_pages(simulated_trial: bool, pages) -> list:
    """The login form under the login path and under every page path (see app.py)."""
    def form() -> None:
        login_page(simulated_trial)

    gate = [st.Page(form, title="Log in", url_path="login", default=True)]
    return gate + [st.Page(form, title="Log in", url_path=p.url_path) for p in pages]


def remember_requested_view(url_path: str) -> None:
    if url_path != "login":
        st.session_state["requested_view"] = (url_path, st.query_params.to_dict())


def open_requested_view(current_path: str, allowed_files: dict[str, str]) -> None:
    """After login, go to the page the visitor first asked for, with its query string."""
    requested = st.session_state.pop("requested_view", None)
    if requested and requested[0] != current_path and requested[0] in allowed_files:
        st.switch_page(allowed_files[requested[0]], query_params=requested[1])


def oidc_viewer() -> Viewer | None:
    """The viewer of an OIDC-authenticated session, or None (not logged in, or no role mapped)."""
    if config.DASHBOARD_AUTH.value() != "oidc" or not st.user.is_logged_in:
        return None
    viewer = viewer_for_identity(st.user.get("email"), st.user.get("name"), load_role_map(config.DASHBOARD_OIDC_ROLES.value()))
    if viewer is None:
        st.error("Your account has no role in this trial. Ask the data manager to add you.")
        if st.button("Log out", key="logout_unmapped"):
            st.logout()
        st.stop()
    return viewer


IDLE_CHECK_SECONDS = 15


def _idle_limit_seconds() -> float:
    return float(config.DASHBOARD_IDLE_MINUTES.value()) * 60.0


def idle_deadline_passed(last_activity: float | None, now: float, idle_limit_seconds: float) -> bool:
    """Whether a session last active at ``last_activity`` has been idle for longer than the limit."""
    return last_activity is not None and now - last_activity > idle_limit_seconds


def expire_if_idle() -> None:
    """Log the viewer out after the configured minutes without interaction.

    Every full run of the app counts as interaction. While someone is logged in, a timer fragment reruns the
    app once the deadline has passed, so an unattended screen clears itself; the timer's own runs are
    fragment runs, which do not pass here and so do not count as interaction."""
    viewer: Viewer | None = st.session_state.get("viewer")
    last = st.session_state.get("last_activity")
    now = time.time()
    if viewer is not None and idle_deadline_passed(last, now, _idle_limit_seconds()):
        _audit("session_expired", viewer.username, viewer.role, idle_since=datetime.fromtimestamp(last, timezone.utc).isoformat())
        st.session_state["viewer"] = viewer = None
        st.warning("Your session expired after inactivity. Please log in again.")
    st.session_state["last_activity"] = now
    if viewer is not None:
        with st.sidebar:
            _idle_timer()


@st.fragment(run_every=IDLE_CHECK_SECONDS)
def _idle_timer() -> None:
    check_idle_deadline()


def check_idle_deadline() -> None:
    """The timer's check: rerun the whole app (which logs out) once the idle deadline has passed."""
    if idle_deadline_passed(st.session_state.get("last_activity"), time.time(), _idle_limit_seconds()):
        st.rerun(scope="app")


def logout_button(viewer: Viewer) -> None:
    if st.sidebar.button("Log out", key="logout", icon=":material/logout:"):
        _audit("logout", viewer.username, viewer.role)
        st.session_state["viewer"] = None
        st.session_state["subject_filter"] = None
        if config.DASHBOARD_AUTH.value() == "oidc":
            st.logout()
        st.rerun()
