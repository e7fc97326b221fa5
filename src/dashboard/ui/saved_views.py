"""Saved views: name the current page and its query string, reopen it later, share it as a link.

Stored per user as JSON beside the audit trail (never in the trial database). A view holds only the
URL; opening it parses the filter again for the viewer, so a DSMB view shared with a blinded
investigator loses its arm criterion (with a note) instead of unblinding them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from dashboard import config
from dashboard.access.viewer import Viewer


def _store(viewer: Viewer) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in viewer.username)
    return Path(config.DASHBOARD_AUDIT.value()).parent / "saved_views" / f"{safe}.json"


def load_views(viewer: Viewer) -> dict[str, dict]:
    path = _store(viewer)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_view(viewer: Viewer, name: str, page: str, params: dict[str, str]) -> None:
    if not name.strip():
        raise ValueError("A saved view needs a name.")
    views = load_views(viewer)
    views[name.strip()] = {"page": page, "params": params}
    path = _store(viewer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(views, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def link(view: dict) -> str:
    query = urlencode(view["params"])
    return f"/{view['page']}" + (f"?{query}" if query else "")


def saved_views_sidebar(viewer: Viewer, page_url_path: str, page_files: dict[str, str]) -> None:
    """Save the current view; list saved views as links that reopen them."""
    with st.sidebar.expander("Saved views", icon=":material/bookmark:"):
        name = st.text_input("Name this view", key="saved_view_name")
        if st.button("Save view", key="saved_view_save") and name.strip():
            save_view(viewer, name, page_url_path, st.query_params.to_dict())
            st.toast(f"Saved view '{name.strip()}'")
        for view_name, view in sorted(load_views(viewer).items()):
            if view["page"] in page_files:
                st.page_link(page_files[view["page"]], label=view_name, query_params=view["params"])
                st.code(link(view), language=None)
