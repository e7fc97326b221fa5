"""The global patient filter: a form in the sidebar whose state lives in the URL query string."""

from __future__ import annotations

import streamlit as st

from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import AGE_RANGE, MELD_RANGE, QUERY_KEYS, SubjectFilter


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


def _slider_value(lo: float | None, hi: float | None, bounds: tuple[int, int]) -> tuple[int, int]:
    """A range slider's (low, high) for the filter's bounds, held inside the slider's ends (a bound from
    elsewhere than the URL parser, such as a saved view, may lie outside them)."""
    def inside(value: float | None, default: int) -> int:
        return default if value is None or value != value else int(min(max(value, bounds[0]), bounds[1]))

    low, high = inside(lo, bounds[0]), inside(hi, bounds[1])
    return (low, high) if low <= high else bounds


def filter_sidebar(view: TrialView, current: SubjectFilter) -> SubjectFilter:
    """Draw the filter form; on Apply store the new filter and rerun."""
    choices = view.filter_choices()

    def pick(label: str, key: str) -> list[str]:
        # Only values this cut offers: a default outside the options (a filter kept from an earlier cut) raises.
        return st.multiselect(label, choices[key], default=[v for v in getattr(current, key) if v in choices[key]],
                              key=f"f_{key}")

    with st.sidebar.form("global_filter"):
        st.markdown("**Patient filters**")
        site = pick("Site", "site")
        sex = pick("Sex", "sex")
        age = st.slider("Age", *AGE_RANGE, _slider_value(current.age_min, current.age_max, AGE_RANGE), key="f_age")
        etiology = pick("Etiology", "etiology")
        lf_type = pick("Liver-failure type", "lf_type")
        meld = st.slider("Baseline MELD", *MELD_RANGE, _slider_value(current.meld_min, current.meld_max, MELD_RANGE),
                         key="f_meld")
        status = pick("Status", "status")
        arm = pick("Arm", "arm") if view.sees_arms else ()
        id_search = st.text_input("Patient id contains", value=current.id_search, key="f_id")
        applied = st.form_submit_button("Apply filters", type="primary")
    st.sidebar.button("Clear filters", key="f_clear", on_click=clear_filters)
    if not applied:
        return current
    new = SubjectFilter(
        site=tuple(site), sex=tuple(sex), etiology=tuple(etiology), lf_type=tuple(lf_type), status=tuple(status),
        arm=tuple(arm), age_min=age[0] if age[0] > AGE_RANGE[0] else None, age_max=age[1] if age[1] < AGE_RANGE[1] else None,
        meld_min=float(meld[0]) if meld[0] > MELD_RANGE[0] else None,
        meld_max=float(meld[1]) if meld[1] < MELD_RANGE[1] else None,
        id_search=id_search.strip(),
    )
    st.session_state["subject_filter"] = new
    st.rerun()
    return new
