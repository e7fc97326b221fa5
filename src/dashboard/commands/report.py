"""``python -m dashboard report --kind open|closed --out FILE.pdf [--db FILE] [--meeting ID]``: one numbered copy
of a DSMB meeting's open (pooled) or closed (by arm) report, for the logged-in user.

The meeting is the current data cut's (created when missing, with every DSMB account of the users file
attending) unless ``--meeting`` names another; its report is built from the cut it reviews, also after later
cuts are published (the cut's kept copy). The copy is numbered in the state store ($DASHBOARD_STATE) and
recorded in the audit trail under the user and the operating-system user who ran the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard import config
from dashboard.access.opening import open_trial_view
from dashboard.commands import authenticate, record_action
from dashboard.domain.meetings import REPORT_KINDS
from dashboard.errors import DashboardError
from dashboard.state import StateStore, actions

NAME = "report"
HELP = "Write one numbered copy of a DSMB meeting's open (pooled) or closed (by arm) report as PDF."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=tuple(REPORT_KINDS), required=True,
                        help="open: pooled, for the open session; closed: by arm, for the DSMB alone")
    parser.add_argument("--out", required=True, help="PDF file to write")
    parser.add_argument("--db", default=None, help=f"trial DuckDB file (default ${config.DASHBOARD_DB.name} or "
                                                   f"{config.DASHBOARD_DB.default})")
    parser.add_argument("--meeting", type=int, default=None,
                        help="meeting id (default: the current data cut's meeting, created when missing)")


def run(args: argparse.Namespace, *, engine=None) -> int:
    db = Path(args.db) if args.db else config.db_path()
    if not db.exists():
        raise FileNotFoundError(f"{db} does not exist. Pass --db or build one with `python -m dashboard simulate`.")
    viewer = authenticate(db, NAME)
    try:
        current = open_trial_view(viewer, db)
        store = StateStore(config.DASHBOARD_STATE.value())

        def audit(name: str, **properties) -> None:
            record_action(name, viewer, NAME, unblinded=current.sees_arms, db=str(db), **properties)

        if args.meeting is not None:
            meeting = store.meeting(args.meeting)
        else:
            meeting = store.meeting_for_cut(actions.cut_ref(current))
            if meeting is None:
                members = actions.dsmb_users(config.DASHBOARD_USERS.value())
                meeting = actions.create_meeting(store, current, audit, attendees=members, all_dsmb=members)
                print(f"Created meeting #{meeting.meeting_id} ({meeting.title}) with "
                      f"{', '.join(meeting.usernames)} attending.")
        view = actions.view_of_meeting_cut(meeting, current, lambda path: open_trial_view(viewer, path))
        issued = actions.issue_copy(store, meeting, args.kind, view, audit, recipient=viewer.username, engine=engine)
    except DashboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.write_bytes(issued.pdf)
    print(f"Wrote {out}: {REPORT_KINDS[args.kind].lower()}, meeting #{meeting.meeting_id} (data cut "
          f"{meeting.cut.cut_id} of {meeting.cut.cut_date:%Y-%m-%d}), copy {issued.record.number} for "
          f"{issued.record.recipient}, SHA-256 {issued.record.sha256}.")
    return 0
