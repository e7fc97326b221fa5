"""Every table download carries the provenance line with the viewer's blinding words."""

import io

import pandas as pd
import pytest

from dashboard.access.audit import AuditLog
from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui.context import PageContext
from dashboard.ui.downloads import table_csv, table_xlsx
from tests.conftest import connect_unblinded
from tests.pages.apptest_helpers import ROLE_VIEWERS


@pytest.fixture
def contexts(trial_db, tmp_path):
    con = connect_unblinded(trial_db)
    make = lambda role: PageContext(TrialView(con, ROLE_VIEWERS[role], trial_db), SubjectFilter(sex=("F",)),  # noqa: E731
                                    AuditLog(tmp_path / "a.jsonl"))
    yield {role: make(role) for role in ROLE_VIEWERS}
    con.close()


@pytest.mark.parametrize("role, words", [("dsmb", "UNBLINDED: DSMB closed session"), ("investigator", "BLINDED: pooled data")])
def test_csv_starts_with_provenance_and_blinding(contexts, role, words):
    text = table_csv(contexts[role], pd.DataFrame({"x": [1, 2]})).decode()
    first = text.splitlines()[0]
    assert first.startswith("# NCT01218464 · data cut ") and words in first and "sex = F" in first
    assert pd.read_csv(io.StringIO(text), comment="#")["x"].tolist() == [1, 2]


def test_xlsx_has_a_provenance_sheet(contexts):
    sheets = pd.read_excel(io.BytesIO(table_xlsx(contexts["investigator"], pd.DataFrame({"x": [1]}))), sheet_name=None)
    assert "BLINDED: pooled data" in sheets["provenance"].iloc[0, 0]
