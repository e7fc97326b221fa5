"""The recommendation on record as a one-page PDF: the meeting and the cut it reviewed, the decision, its
rationale, who recorded it, every attendee's confirmation with its time, when it was locked, and the records it
corrects (or the one that corrects it). HTML printed by WeasyPrint, the engine of the DSMB reports."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone

from dashboard.domain.meetings import Meeting, Recommendation, utc_label

STYLE = """
@page { size: A4; margin: 22mm 20mm 20mm 20mm;
        @top-center { content: "DSMB RECOMMENDATION ON RECORD"; font-size: 8pt; color: #555; }
        @bottom-center { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 4mm 0; }
h2 { font-size: 11pt; margin: 6mm 0 2mm 0; border-bottom: 0.5pt solid #999; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 1.2mm 2mm; border-bottom: 0.4pt solid #ccc; vertical-align: top;
         overflow-wrap: anywhere; }
th { width: 35%; font-weight: bold; }
.decision { font-size: 14pt; font-weight: bold; margin: 2mm 0; }
.rationale { white-space: pre-wrap; border-left: 2pt solid #999; padding-left: 3mm; }
.note { color: #444; font-size: 8.5pt; }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _rows(pairs: Sequence[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs) + "</table>"


def record_html(meeting: Meeting, rec: Recommendation, corrects: Sequence[Recommendation] = (),
                printed: datetime | None = None) -> str:
    printed = printed or datetime.now(timezone.utc)
    names = {a.username: a.label for a in meeting.attendees}
    cut = meeting.cut
    meeting_rows = [("Meeting", f"#{meeting.meeting_id}: {meeting.title}"), ("Date", f"{meeting.meeting_on:%Y-%m-%d}"),
                    ("Data cut reviewed", f"cut {cut.cut_id} of {cut.cut_date:%Y-%m-%d} ({cut.study_id})"),
                    ("Cut checksum (SHA-256)", cut.checksum)]
    if cut.charter_sha256:
        meeting_rows.append(("Charter (SHA-256)", cut.charter_sha256))
    meeting_rows.append(("Attendees", "; ".join(a.label for a in meeting.attendees)))
    record_rows = [("Record", f"#{rec.recommendation_id}"),
                   ("Recorded by", f"{names.get(rec.recorded_by, rec.recorded_by)} at {utc_label(rec.recorded_at)}"),
                   ("Locked", utc_label(rec.locked_at) if rec.locked else "not locked: awaiting confirmations")]
    if rec.corrects_id is not None:
        record_rows.append(("Corrects", f"record #{rec.corrects_id}"))
    if rec.corrected_by_id is not None:
        record_rows.append(("Corrected by", f"record #{rec.corrected_by_id} (this record is no longer the one on "
                                            "record)"))
    confirmations = "".join(f"<tr><td>{_e(names.get(c.username, c.username))}</td><td>{_e(utc_label(c.confirmed_at))}</td></tr>"
                            for c in rec.confirmations)
    history = "".join(
        f"<p><b>Record #{r.recommendation_id}</b> ({_e(r.decision_label)}), recorded by "
        f"{_e(names.get(r.recorded_by, r.recorded_by))}, locked {_e(utc_label(r.locked_at))}.</p>" for r in corrects)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>DSMB recommendation #{rec.recommendation_id}</title>
</head><body>
<h1>DSMB recommendation</h1>
{_rows(meeting_rows)}
<h2>Recommendation</h2>
<p class="decision">{_e(rec.decision_label)}</p>
<h2>Rationale</h2>
<div class="rationale">{_e(rec.rationale)}</div>
<h2>Record</h2>
{_rows(record_rows)}
<h2>Confirmations ({len(rec.confirmations)} of {len(meeting.attendees)} attendees)</h2>
<table><tr><th>Member</th><th>Confirmed at</th></tr>{confirmations}</table>
{"<h2>Records this one corrects</h2>" + history if history else ""}
<p class="note">Each attendee confirmed with their own login; the record was locked at the last confirmation and
cannot be edited. Printed {printed:%Y-%m-%d %H:%M} UTC from the dashboard's state store.</p>
</body></html>"""


def record_pdf(meeting: Meeting, rec: Recommendation, corrects: Sequence[Recommendation] = (),
               printed: datetime | None = None) -> bytes:
    from weasyprint import CSS, HTML  # imported here: the app starts without loading Pango

    return HTML(string=record_html(meeting, rec, corrects, printed)).write_pdf(stylesheets=[CSS(string=STYLE)])
