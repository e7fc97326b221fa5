"""The page registry: URL paths of DESIGN §9, built per role (hiding is convenience; access is enforced below)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.access.viewer import Viewer, allowed


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    url_path: str
    icon: str
    action: str = "view_trial"
    hidden: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "Overview", "overview", ":material/dashboard:"),
    PageSpec("pages/patients.py", "Patients", "patients", ":material/groups:"),
    PageSpec("pages/patient.py", "Patient profile", "patient", ":material/person:", hidden=True),
    PageSpec("pages/labs.py", "Labs over time", "labs", ":material/biotech:"),
    PageSpec("pages/ascites.py", "Ascites", "ascites", ":material/water_drop:"),
    PageSpec("pages/survival.py", "Survival", "survival", ":material/monitor_heart:"),
    PageSpec("pages/safety.py", "Safety", "safety", ":material/health_and_safety:"),
    PageSpec("pages/monitoring.py", "Interim monitoring", "monitoring", ":material/show_chart:"),
    PageSpec("pages/meetings.py", "DSMB meetings", "meetings", ":material/gavel:", action="attend_dsmb_meeting"),
    PageSpec("pages/data.py", "Data cuts", "data", ":material/upload_file:", action="import_data"),
    PageSpec("pages/audit.py", "Audit trail", "audit", ":material/policy:", action="view_audit"),
)


def page_paths(viewer: Viewer) -> set[str]:
    """URL paths the viewer's role may open."""
    return {p.url_path for p in PAGES if allowed(viewer, p.action)}


def pages_for(viewer: Viewer) -> list:
    return [
        st.Page(p.file, title=p.title, url_path=p.url_path, icon=p.icon, default=(p.url_path == "overview"),
                visibility="hidden" if p.hidden else "visible")
        for p in PAGES if allowed(viewer, p.action)
    ]
