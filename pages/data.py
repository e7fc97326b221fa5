"""Data cuts (/data), for data managers: upload a delivery (and optionally the DSMB charter in force from it),
see every validation problem, publish it as the next data cut; every cut this database has held, and the
current cut's charter.

Nothing is written until the whole delivery has passed validation, and the cut is swapped in
atomically, so a broken delivery never touches the current cut. Every publish is audited.
"""

from datetime import date

import streamlit as st

from dashboard import config
from dashboard.access.viewer import require
from dashboard.data.importers import IMPORTERS
from dashboard.domain.charter import CharterError, charter_summary
from dashboard.domain.cut_changes import cuts_table
from dashboard.ui.context import current, record
from dashboard.ui.data_import import Delivery, Outcome, preview_charter, run_delivery
from dashboard.ui.downloads import download_table

ctx = current()
require(ctx.viewer, "import_data")
view = ctx.view
FORMATS = {m.FORMAT: m.HELP for m in IMPORTERS}
st.title("Data cuts")

st.subheader("Load a delivery")
with st.container(border=True, key="data_delivery"):
    upload = st.file_uploader("Delivery: a .zip of .xpt, .csv or .parquet files, one per domain or table",
                              type=["zip"], key="data_upload")
    left, middle, right = st.columns([2, 1, 1])
    fmt = left.segmented_control("Format", list(FORMATS), format_func=str.upper, default="sdtm", required=True,
                                 key="data_format", help="; ".join(f"{k.upper()}: {v}" for k, v in FORMATS.items()))
    cut_date = middle.date_input("Data cut date", value=date.today(), key="data_cut_date")
    reference = right.text_input("Reference (control) arm", key="data_reference_arm", placeholder="Placebo",
                                 help="The arm the others are compared with; left blank: Placebo when there is one.")
    mapping = st.file_uploader("Mapping file for non-standard codes, units or domains (.toml, optional)",
                               type=["toml"], key="data_mapping")
    charter = st.file_uploader("DSMB charter in force from this cut (.toml, optional; without one the current "
                               "cut's charter is kept)", type=["toml"], key="data_charter",
                               help="Versioned TOML file: endpoint, planned events and looks, alpha spending, "
                                    "futility, safety rules (docs/charter.md).")
    if charter is not None:
        try:
            preview = preview_charter(charter.name, charter.getvalue())
        except CharterError as exc:
            st.error(f"{charter.name} is not a valid DSMB charter ({len(exc.problems)} problem(s)); a cut cannot be "
                     "published with it. Correct it and upload it again.", icon=":material/error:")
            st.code(str(exc), language=None, wrap_lines=True)
        else:
            st.markdown(f"**Charter {preview.version}** ({charter.name}), checked: it takes effect with the cut "
                        "you publish.")
            st.table(charter_summary(preview).set_index("item"))
    buttons = st.container(horizontal=True)
    check = buttons.button("Check", key="data_check", icon=":material/fact_check:", disabled=upload is None)
    publish = buttons.button("Publish as new cut", key="data_publish", type="primary", icon=":material/publish:",
                             disabled=upload is None)
    st.caption("Check validates only. Publish validates again and, if nothing is wrong, writes the cut to a new "
               "file swapped in with an atomic rename; open dashboards reload it within seconds. The archive is "
               "read in memory, never unpacked; members outside its folder reject it. Formats: docs/importing.md.")

if upload is not None and (check or publish):
    delivery = Delivery(upload.name, upload.getvalue(), fmt, cut_date, reference.strip() or None,
                        mapping.name if mapping else None, mapping.getvalue() if mapping else None,
                        charter.name if charter else None, charter.getvalue() if charter else None)
    with st.status(f"{'Publishing' if publish else 'Checking'} {upload.name} ...", expanded=True) as status:
        st.write(f"Received {upload.name} ({upload.size / 1024:,.0f} KB). Reading its {fmt.upper()} files and "
                 "validating every record; nothing is written unless all of them pass.")
        outcome = run_delivery(delivery, config.db_path(), publish=publish, who=ctx.viewer.username)
        verdict = (f"{outcome.total_problems} problem(s) found: nothing was written" if not outcome.ok
                   else f"published as cut {outcome.cut['cut_id']}" if publish else "no problems found")
        status.update(label=f"{upload.name}: {verdict} ({outcome.seconds:.1f} s)",
                      state="complete" if outcome.ok else "error", expanded=False)
    if publish:
        cut = outcome.cut or {}
        record(ctx, "import", "data", upload=upload.name, format=fmt, cut_date=cut_date.isoformat(),
               outcome="published" if outcome.ok else "rejected", problems=outcome.total_problems,
               cut_id=cut.get("cut_id"), checksum=cut.get("checksum"), charter=charter.name if charter else None)
    st.session_state["data_outcome"] = outcome
    if publish and outcome.ok:
        st.rerun()  # show the new cut now: header, cut list and the "new data cut loaded" notice


def show_outcome(outcome: Outcome) -> None:
    if not outcome.ok:
        listed = f"; the first {len(outcome.report)} are listed" if outcome.total_problems > len(outcome.report) else ""
        st.error(f"{outcome.upload} was rejected: {outcome.total_problems} problem(s){listed}. Nothing was written "
                 "and the current data cut is unchanged. Correct the files and upload them again.",
                 icon=":material/error:")
        st.dataframe(outcome.report, hide_index=True, key="data_report", column_config={
            "file": "File", "row": st.column_config.NumberColumn("Row", format="%d"), "column": "Column",
            "found": "Found", "expected": st.column_config.TextColumn("Expected", width="large")})
        st.caption("Row: the data row of the file (1 = first row after the header); blank when the problem is "
                   "about the file or a column as a whole.")
        download_table(ctx, outcome.report, "validation_report", key="data_report_download", page="data")
        return
    if outcome.publish:
        st.success(f"{outcome.upload} was published as cut {outcome.cut['cut_id']} (data cut "
                   f"{outcome.cut['cut_date']:%Y-%m-%d}).", icon=":material/check_circle:")
    else:
        st.success(f"{outcome.upload} passed every check; publish it to make it the current cut.",
                   icon=":material/check_circle:")
    for note in outcome.warnings:
        st.caption(f"Note: {note}")
    st.dataframe(outcome.row_counts, hide_index=True, key="data_row_counts")


if "data_outcome" in st.session_state:
    show_outcome(st.session_state["data_outcome"])

st.subheader("Every cut of this database")
cuts = cuts_table(view.cuts())
st.dataframe(cuts, hide_index=True, key="data_cuts_table", column_config={
    "cut_id": st.column_config.NumberColumn("Cut", format="%d"),
    "cut_date": st.column_config.DateColumn("Data cut date", format="YYYY-MM-DD"),
    "loaded_at": st.column_config.DatetimeColumn("Loaded (UTC)", format="YYYY-MM-DD HH:mm"), "source": "Source",
    "checksum": st.column_config.TextColumn("Checksum (SHA-256)", width="small")})
st.caption(f"Newest first; cut {view.cut_id} is shown now. Row counts per table; the checksum covers every "
           f"table's content. Each cut is kept as cuts/{config.db_path().stem}/cut-<id>.duckdb beside the database.")

st.subheader("DSMB charter of this cut")
in_force = view.charter_record()
if in_force is None:
    st.info("This cut has no DSMB charter. Upload one with the next delivery (docs/charter.md).",
            icon=":material/info:")
else:
    st.markdown(f"Version **{in_force['version']}** · SHA-256 `{in_force['sha256'][:12]}` · loaded "
                f"{in_force['loaded_at']:%Y-%m-%d %H:%M} UTC")
    st.caption(f"{in_force['title']}. Source: {in_force['source']}. Read-only: a new version is loaded with a new cut; "
               "earlier cuts keep theirs.")
