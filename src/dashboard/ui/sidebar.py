"""The global patient filter: a form in the sidebar whose state lives in the URL query string."""

from __future__ import annotations

import streamlit as st

from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import QUERY_KEYS, SubjectFilter


def filter_from_url(view: TrialView) -> SubjectFilter:
    """The filter of this session: from the URL on the first run, then kept in session state.

    Page navigation clears the query string, so an empty one keeps the session's filter; a URL that
    carries filter keys different from the session's (a saved view, a shared link) replaces it.
    """
    existing: SubjectFilter | None = st.session_state.get("subject_filter")
    params = {k: st.query_params.get(k, "") for k in QUERY_KEYS if st.query_params.get(k, "")}
    if existing is not None and (not params or params == existing.to_query_params()):
        return existing
    f = SubjectFilter.from_query_params(params, allowed=view.filter_choices(), allow_arm=view.sees_arms)
    for note in f.notes:
        st.toast(note)
    st.session_state["subject_filter"] = f
    return f


def write_filter_to_url(f: SubjectFilter) -> None:
    """Rewrite the filter's keys in the URL (navigation clears them), leaving page keys alone."""
    wanted = f.to_query_params()
    for key in QUERY_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


FORM_KEYS = ("f_site", "f_sex", "f_age", "f_etiology", "f_lf_type", "f_meld", "f_status", "f_arm", "f_id")


def clear_filters() -> None:
    """Empty the selection everywhere it lives: session, URL (or the next run would apply the URL's filter
    again) and the form's widgets (or they would show the old values)."""
    st.session_state["subject_filter"] = SubjectFilter()
    for key in QUERY_KEYS:
        if key in st.query_params:
            del st.query_params[key]
    for key in FORM_KEYS:
        st.session_state.pop(key, None)


def filter_sidebar(view: TrialView, current: SubjectFilter) -> SubjectFilter:
    """Draw the filter form; on Apply store the new filter and rerun."""
    choices = view.filter_choices()
    with st.sidebar.form("global_filter"):
        st.markdown("**Patient filters**")
        site = st.multiselect("Site", choices["site"], default=list(current.site), key="f_site")
        sex = st.multiselect("Sex", choices["sex"], default=list(current.sex), key="f_sex")
        age = st.slider("Age", 18, 80, (current.age_min or 18, current.age_max or 80), key="f_age")
        etiology = st.multiselect("Etiology", choices["etiology"], default=list(current.etiology), key="f_etiology")
        lf_type = st.multiselect("Liver-failure type", choices["lf_type"], default=list(current.lf_type), key="f_lf_type")
        meld = st.slider("Baseline MELD", 6, 40, (int(current.meld_min or 6), int(current.meld_max or 40)), key="f_meld")
        status = st.multiselect("Status", choices["status"], default=list(current.status), key="f_status")
        arm = ()
        if view.sees_arms:
            arm = st.multiselect("Arm", choices["arm"], default=list(current.arm), key="f_arm")
        id_search = st.text_input("Patient id contains", value=current.id_search, key="f_id")
        applied = st.form_submit_button("Apply filters", type="primary")
    st.sidebar.button("Clear filters", key="f_clear", on_click=clear_filters)
    if not applied:
        return current
    new = SubjectFilter(
        site=tuple(site), sex=tuple(sex), etiology=tuple(etiology), lf_type=tuple(lf_type), status=tuple(status),
        arm=tuple(arm), age_min=age[0] if age[0] > 18 else None, age_max=age[1] if age[1] < 80 else None,
        meld_min=float(meld[0]) if meld[0] > 6 else None, meld_max=float(meld[1]) if meld[1] < 40 else None,
        id_search=id_search.strip(),
    )
    st.session_state["subject_filter"] = new
    st.rerun()
    return new
