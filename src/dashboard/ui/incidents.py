"""Unexpected errors: the user sees a short message with an incident id, the server log gets the traceback.

No traceback, exception text or server path reaches a browser (``client.showErrorDetails = "none"`` in
.streamlit/config.toml is the second line of defence). Expected states (no patients, too few events,
unsuitable data) are not incidents: pages show them as information before they get here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from dashboard.errors import AccessDenied

LOG = logging.getLogger("dashboard.incidents")


def log_incident(exc: BaseException, where: str) -> str:
    """Write ``exc`` with its traceback to the server log under a new incident id, and return the id."""
    incident = secrets.token_hex(4)
    LOG.error("incident %s on %s: %s: %s", incident, where or "/", type(exc).__name__, exc, exc_info=exc)
    return incident


def _show_incident(exc: Exception, where: str) -> None:
    incident = log_incident(exc, where)
    st.error(f"This view could not be shown because of an unexpected error (incident {incident}). Nothing was "
             "changed. Try another view or a wider selection, and quote the incident id when you report it.",
             icon=":material/error:")


show_incident = _show_incident  # the tests swap this to re-raise, so AppTest sees every error


@contextmanager
def guarded(where: str = "") -> Iterator[None]:
    """Run a page (or the whole app) so that an unexpected exception becomes :func:`show_incident`.
    Streamlit's own st.stop/st.rerun are BaseExceptions and pass through."""
    try:
        yield
    except AccessDenied as exc:
        st.error(str(exc), icon=":material/block:")
    except Exception as exc:  # noqa: BLE001 - the last line of defence: every error becomes an incident
        show_incident(exc, where)
