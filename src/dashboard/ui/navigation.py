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
)


def pages_for(viewer: Viewer) -> list:
    return [
        st.Page(p.file, title=p.title, url_path=p.url_path, icon=p.icon, default=(p.url_path == "overview"),
                visibility="hidden" if p.hidden else "visible")
        for p in PAGES if allowed(viewer, p.action)
    ]
