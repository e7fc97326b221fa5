"""Downloads that carry their provenance and blinding words, and are recorded in the audit trail."""

from __future__ import annotations

import hashlib
import io
import re
from functools import partial

import pandas as pd
import streamlit as st

from dashboard.ui.context import PageContext, record
from dashboard.ui.header import provenance

# Tables up to this many rows get their XLSX built with the page (a few milliseconds); larger ones on click.
EAGER_XLSX_ROWS = 5000


def _file_stem(name: str) -> str:
    """A download's file name without characters that browsers or file systems reject."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


# Text a spreadsheet evaluates as a formula when it starts with one of these (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _inert(value):
    """``value`` with a leading single quote when it is text a spreadsheet would evaluate; text that is
    just a number ("-5") and every non-text value (a negative number included) are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """The table every export writes: subject ids, AE terms and column names that would become live
    formulas in a spreadsheet (``=HYPERLINK(...)``, ``=cmd|...``) are quoted; numeric columns untouched."""
    out = df.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype.kind == "O" or isinstance(column.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out.isetitem(i, column.astype(object).map(_inert))
    out.columns = [_inert(c) for c in out.columns] if not isinstance(out.columns, pd.MultiIndex) else \
        pd.MultiIndex.from_tuples([tuple(_inert(c) for c in t) for t in out.columns])
    return out


def table_csv(ctx: PageContext, df: pd.DataFrame) -> bytes:
    """CSV with the provenance line (study, cut, population, blinding) as a leading comment line."""
    # One line: the provenance carries the URL's id search, and a line break there would start a cell.
    # CRLF rows: the csv module quotes a field holding a character of the line terminator, so a bare "\r"
    # inside a value (which Excel reads as a new row starting with what follows) is quoted too.
    head = "# " + " ".join(provenance(ctx).splitlines()) + "\r\n"
    return (head + neutralise_formulas(df).to_csv(index=False, lineterminator="\r\n")).encode("utf-8")


def table_xlsx(ctx: PageContext, df: pd.DataFrame, sheet: str = "data") -> bytes:
    """XLSX with the table and a 'provenance' sheet."""
    return _xlsx(df, sheet, provenance(ctx))


def _xlsx(df: pd.DataFrame, sheet: str, provenance_line: str) -> bytes:
    # openpyxl stores any string starting with "=" as a formula: every sheet goes through neutralise_formulas.
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in ((sheet[:31], df), ("provenance", pd.DataFrame({"provenance": [provenance_line]}))):
            neutralise_formulas(table).to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def download_table(ctx: PageContext, df: pd.DataFrame, name: str, *, key: str, page: str) -> None:
    """CSV and XLSX download buttons for ``df``; each click is audited."""
    safe = _file_stem(name)
    left, right = st.columns(2)
    left.download_button("Download CSV", table_csv(ctx, df), f"{safe}.csv", "text/csv", key=f"{key}_csv",
                         on_click=record, args=(ctx, "export", page), kwargs={"what": f"{safe}.csv", "rows": len(df)})
    xlsx = f"{safe}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if len(df) <= EAGER_XLSX_ROWS:
        # Built now: Streamlit keeps a deferred callable only while the session's current run references it;
        # a rerun drops the reference and the end of whichever run finishes next (under load, another
        # session's) deletes it, so a click on the button still on screen got "Deferred file not found".
        # A file built now survives one such clean-up (it is marked first, deleted on the next).
        right.download_button("Download XLSX", _xlsx(df, safe, provenance(ctx)), *xlsx, key=f"{key}_xlsx",
                              on_click=record, args=(ctx, "export", page), kwargs={"what": xlsx[0], "rows": len(df)})
        return
    # Large tables are written only when clicked (building every table's workbook on every rerun took half of
    # a 100,000-patient survival page's run), and the click does not rerun, so this run's reference stays;
    # the callable records the export itself (it runs outside the script: the provenance line is fixed now).
    right.download_button("Download XLSX", partial(_audited_xlsx, ctx, page, df, safe, provenance(ctx)), *xlsx,
                          key=f"{key}_xlsx", on_click="ignore")


def _audited_xlsx(ctx: PageContext, page: str, df: pd.DataFrame, name: str, provenance_line: str) -> bytes:
    data = _xlsx(df, name, provenance_line)
    record(ctx, "export", page, what=f"{name}.xlsx", rows=len(df))
    return data


def figure_downloads(ctx: PageContext, fig, name: str, *, key: str, page: str) -> None:
    """An 'Export figure' control: renders PNG/SVG/PDF with the provenance footer only when asked."""
    from dashboard.figures.export import FORMATS, figure_bytes, with_provenance

    safe = _file_stem(name)
    digest = hashlib.sha256(fig.to_json().encode()).hexdigest()
    with st.popover("Export figure", icon=":material/download:"):
        fmt = st.segmented_control("Format", list(FORMATS), default="png", key=f"{key}_fmt")
        if fmt and st.button("Prepare file", key=f"{key}_prepare"):
            st.session_state[f"{key}_bytes"] = (digest, fmt, figure_bytes(with_provenance(fig, provenance(ctx)), fmt))
        prepared = st.session_state.get(f"{key}_bytes")
        # A file prepared for an earlier state of the figure (other filters) is never offered.
        if prepared and prepared[0] == digest:
            _, fmt_done, data = prepared
            st.download_button(f"Download {fmt_done.upper()}", data, f"{safe}.{fmt_done}", FORMATS[fmt_done],
                               key=f"{key}_download", on_click=record, args=(ctx, "export", page),
                               kwargs={"what": f"{safe}.{fmt_done}"})


def chart(ctx: PageContext, fig, *, key: str, page: str, name: str | None = None, container=None, **plotly_kwargs):
    """Show a figure (in presentation style when that mode is on) with its export control.

    ``container`` is where to draw (a column, say); ``name`` is the exported file's name (default ``key``).
    """
    from dashboard.figures.export import presentation_style

    if st.session_state.get("presentation_mode"):
        fig = presentation_style(fig)
    with container if container is not None else st.container():
        event = st.plotly_chart(fig, key=key, **plotly_kwargs)
        figure_downloads(ctx, fig, name or key, key=f"{key}_export", page=page)
    return event
