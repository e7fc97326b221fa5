"""Helpers for AppTest: run a page as a role, and collect every byte the page sent to the browser."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.access.viewer import Viewer

APP = Path(__file__).resolve().parents[2] / "app.py"
ROLE_VIEWERS = {
    "dsmb": Viewer("dsmb", "dsmb", "DSMB member"),
    "investigator": Viewer("investigator", "investigator", "Investigator"),
    "data_manager": Viewer("datamanager", "data_manager", "Data manager"),
}


def run_page(page_file: str, role: str, query_params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["viewer"] = ROLE_VIEWERS[role]
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    # st.navigation registers pages with custom url paths, so AppTest needs one run before switching.
    at.run()
    at.switch_page(page_file)
    return at.run()


def sent_bytes(at: AppTest) -> bytes:
    """Serialized protobuf of every element: text, dataframes (Arrow), chart specs, widget labels."""
    chunks: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            chunks.append(proto.SerializeToString())
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return b"".join(chunks)
