"""Many sessions at once on the one shared connection: constructing TrialViews and querying never collide.

Streamlit serves every session from one cached connection (ui.context._connection); a query run on the
connection itself rather than on its own cursor raised ``duckdb ResourceInUseException: connection is
busy`` under 5-20 simultaneous sessions. Bounded: a fixed number of threads and rounds, a time limit.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded
from tests.pages.apptest_helpers import ROLE_VIEWERS

SESSIONS = 16
ROUNDS = 6


class _Watched:
    """The shared connection with its own methods counted: every query must go through a cursor."""

    def __init__(self, con):
        self._con = con
        self.direct_calls: list[str] = []

    def cursor(self):
        return self._con.cursor()

    def __getattr__(self, name):
        self.direct_calls.append(name)
        return getattr(self._con, name)


def test_the_constructor_queries_only_through_cursors(trial_db):
    con = _Watched(connect_unblinded(trial_db))
    view = TrialView(con, ROLE_VIEWERS["investigator"], trial_db)
    view.count_subjects(SubjectFilter())
    assert con.direct_calls == [], "the shared connection was queried directly, not through its own cursor"


def test_simultaneous_sessions_construct_views_and_query_on_one_connection(trial_db):
    con = connect_unblinded(trial_db)
    start = threading.Barrier(SESSIONS)
    roles = list(ROLE_VIEWERS)

    def session(i: int) -> int:
        start.wait(timeout=30)  # every thread constructs its first view at the same moment
        n = 0
        for r in range(ROUNDS):
            view = TrialView(con, ROLE_VIEWERS[roles[(i + r) % len(roles)]], trial_db)
            n += view.count_subjects(SubjectFilter(sex=("F",) if r % 2 else ()))[0]
            view.filter_choices()
        return n

    with ThreadPoolExecutor(SESSIONS) as pool:
        futures = [pool.submit(session, i) for i in range(SESSIONS)]
        counts = [f.result(timeout=120) for f in futures]  # re-raises the first exception of any session
    assert len(set(counts)) == 1 and counts[0] > 0
    con.close()


def test_a_small_xlsx_is_built_with_the_page_a_large_one_on_click_without_rerun(trial_db, tmp_path, monkeypatch):
    """Streamlit keeps a deferred download's callable only while the session's current run references it:
    the rerun a click starts drops the reference, and the next end of any session's run (under load, some
    other session's) deletes the callable before the click's request reaches it ("Deferred file not
    found"). So a small table's XLSX is built with the page; a large one's deferred button does not rerun
    on click, and its callable records the export itself."""
    import io

    import openpyxl
    import pandas as pd

    from dashboard.access.audit import AuditLog
    from dashboard.ui import downloads
    from dashboard.ui.context import PageContext

    buttons = {}

    class Column:
        def download_button(self, label, data, *args, **kwargs):
            buttons[label] = (data, kwargs)

    monkeypatch.setattr(downloads.st, "columns", lambda n: [Column() for _ in range(n)])
    audit = AuditLog(tmp_path / "audit.jsonl")
    con = connect_unblinded(trial_db)
    ctx = PageContext(TrialView(con, ROLE_VIEWERS["investigator"], trial_db), SubjectFilter(), audit)
    downloads.download_table(ctx, pd.DataFrame({"x": [1, 2]}), "table", key="k", page="overview")
    assert isinstance(buttons["Download XLSX"][0], bytes)
    monkeypatch.setattr(downloads, "EAGER_XLSX_ROWS", 1)
    downloads.download_table(ctx, pd.DataFrame({"x": [1, 2]}), "table", key="k", page="overview")
    data, kwargs = buttons["Download XLSX"]
    assert callable(data) and kwargs.get("on_click") == "ignore"
    assert audit.read().empty  # nothing is recorded until the file is written
    assert openpyxl.load_workbook(io.BytesIO(data()))["table"]["A3"].value == 2
    events = audit.read()
    assert events["name"].tolist() == ["export"] and '"table.xlsx"' in events["properties"].iloc[0]
    con.close()
