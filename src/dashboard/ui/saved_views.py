"""Saved views: name the current page and its query string, reopen it later, share it as a link.

Stored per user as JSON beside the audit trail (never in the trial database), in a file named by a hash
of the exact username. A view holds only the
URL; opening it parses the filter again for the viewer, so a DSMB view shared with a blinded
investigator loses its arm criterion (with a note) instead of unblinding them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from dashboard import config
from dashboard.access.users import UserStore, write_atomically
from dashboard.access.viewer import Viewer


def _folder() -> Path:
    return Path(config.DASHBOARD_AUDIT.value()).parent / "saved_views"


def _store(viewer: Viewer) -> Path:
    """One file per user, named by a hash of the exact username, so no two usernames share a file."""
    return _folder() / f"{hashlib.sha256(viewer.username.encode()).hexdigest()[:32]}.json"


def _legacy_store(viewer: Viewer) -> Path | None:
    """The file of views saved before hashed names: the username with unsafe characters replaced by "_".

    Several usernames map to one such name ("ann lee", "ann_lee"); when more than one local user does, nobody
    reads it (its views stay in the file for an administrator to sort out)."""
    def legacy_name(username: str) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in username)

    name = legacy_name(viewer.username)
    local_users = UserStore(config.DASHBOARD_USERS.value()).load()
    owners = {u for u in local_users if legacy_name(u) == name} | {viewer.username}
    return _folder() / f"{name}.json" if len(owners) == 1 else None


def _read(path: Path | None) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.exists() else {}


def load_views(viewer: Viewer) -> dict[str, dict]:
    path = _store(viewer)
    return _read(path) if path.exists() else _read(_legacy_store(viewer))


def save_view(viewer: Viewer, name: str, page: str, params: dict[str, str]) -> None:
    """Add a view to the viewer's file; views of a legacy file move into it, and the legacy file goes."""
    if not name.strip():
        raise ValueError("A saved view needs a name.")
    legacy = None if _store(viewer).exists() else _legacy_store(viewer)
    views = load_views(viewer)
    views[name.strip()] = {"page": page, "params": params}
    path = _store(viewer)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(views, indent=1, sort_keys=True))
    if legacy is not None:
        legacy.unlink(missing_ok=True)


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
