"""Entry point: page config, login, navigation per role, global filters, header; then the page runs.
An unexpected error anywhere becomes an incident message (ui/incidents.py), never a traceback."""

import streamlit as st

from dashboard.ui import context, login, sidebar
from dashboard.ui.bootstrap import ensure_database
from dashboard.ui.cut_watch import remember_cut, watch_for_new_cut
from dashboard.ui.deck_button import deck_button
from dashboard.ui.header import header
from dashboard.ui.incidents import guarded
from dashboard.ui.navigation import PAGES, page_paths, pages_for
from dashboard.ui.saved_views import saved_views_sidebar

st.set_page_config(page_title="UC-MSC trial dashboard", page_icon=":material/monitor_heart:", layout="wide")


def run_app() -> None:
    context.init_session_state()
    simulated = ensure_database()
    login.expire_if_idle()
    viewer = st.session_state["viewer"] or login.oidc_viewer()

    if viewer is None:
        # st.navigation must run on every rerun, or Streamlit falls back to auto-discovering pages/. Every
        # page path leads to the login form, so a deep link (/patient?id=...) is remembered and opened after login.
        requested = st.navigation(login.gate_pages(simulated, PAGES), position="hidden")
        login.remember_requested_view(requested.url_path)
        requested.run()
        st.stop()

    page = st.navigation(pages_for(viewer))
    page_path = page.url_path or "overview"  # the default page is served at the root URL, whose path is ""
    login.open_requested_view(page_path, {p.url_path: p.file for p in PAGES if p.url_path in page_paths(viewer)})
    view = context.trial_view(viewer)
    remember_cut(view)
    subject_filter = sidebar.filter_sidebar(view, sidebar.filter_from_url(view))
    sidebar.write_filter_to_url(subject_filter)
    ctx = context.establish(view, subject_filter)
    saved_views_sidebar(viewer, page_path, {p.url_path: p.file for p in PAGES})
    st.sidebar.toggle("Presentation mode", key="presentation_mode", help="Large fonts and thick lines for slides.")
    with st.sidebar:
        deck_button(ctx)
    login.logout_button(viewer)
    with st.sidebar:
        watch_for_new_cut()
    header(ctx)
    context.audit_page_view(ctx, page_path)
    # A failing page leaves the shell (filters, Log out) working around its incident message.
    with guarded(page_path):
        page.run()


with guarded("app shell"):
    run_app()
