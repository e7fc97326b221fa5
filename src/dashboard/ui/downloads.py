"""Downloads that carry their provenance and blinding words, and are recorded in the audit trail."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from dashboard.ui.context import PageContext, record
from dashboard.ui.header import provenance


def table_csv(ctx: PageContext, df: pd.DataFrame) -> bytes:
    """CSV with the provenance line (study, cut, population, blinding) as leading comment lines."""
    head = f"# {provenance(ctx)}\n"
    return (head + df.to_csv(index=False)).encode("utf-8")


def table_xlsx(ctx: PageContext, df: pd.DataFrame, sheet: str = "data") -> bytes:
    """XLSX with the table and a 'provenance' sheet."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        df.to_excel(writer, sheet_name=sheet[:31], index=False)
        pd.DataFrame({"provenance": [provenance(ctx)]}).to_excel(writer, sheet_name="provenance", index=False)
    return buffer.getvalue()


def download_table(ctx: PageContext, df: pd.DataFrame, name: str, *, key: str, page: str) -> None:
    """CSV and XLSX download buttons for ``df``; each click is audited."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    left, right = st.columns(2)
    left.download_button("Download CSV", table_csv(ctx, df), f"{safe}.csv", "text/csv", key=f"{key}_csv",
                         on_click=record, args=(ctx, "export", page), kwargs={"what": f"{safe}.csv", "rows": len(df)})
    right.download_button("Download XLSX", table_xlsx(ctx, df, safe),
                          f"{safe}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", on_click=record, args=(ctx, "export", page),
                          kwargs={"what": f"{safe}.xlsx", "rows": len(df)})
