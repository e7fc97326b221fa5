"""``python -m dashboard audit``: list the audit trail, as the logged-in user may read it.

The command logs in like every command that reads trial data (:func:`dashboard.commands.authenticate`) and
prints :meth:`dashboard.access.audit.AuditLog.read_for` of that user: whole for the auditor and the DSMB,
redacted for the data manager (events of unblinded sessions show "[DSMB view]", no arm criterion or name);
other roles may not read the trail.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from dashboard import config
from dashboard.access.audit import AuditLog
from dashboard.commands import EXIT_NOT_AUTHENTICATED, authenticate, record_action
from dashboard.data.database import connect_readonly
from dashboard.errors import AccessDenied

NAME = "audit"
HELP = "List the audit trail (logins, page views with filters, exports), redacted for blinded readers; logs in."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=datetime.fromisoformat, default=None,
                        help="only events at or after this time (ISO 8601, UTC if no zone)")
    parser.add_argument("--file", default=config.DASHBOARD_AUDIT.value(), help="audit file (default $DASHBOARD_AUDIT)")
    parser.add_argument("--db", default=None,
                        help="trial DuckDB file whose blinding applies (default $DASHBOARD_DB); the trail of a blinded "
                             "trial is redacted for readers who may not see arms")


def _trial_blinded(db: Path) -> bool:
    """Whether the trial is still blinded; without a trial database to say otherwise, it is."""
    if not db.exists():
        return True
    with connect_readonly(db) as con:
        return bool(con.execute("SELECT blinded FROM study").fetchone()[0])


def run(args: argparse.Namespace) -> int:
    db = Path(args.db) if args.db else config.db_path()
    viewer = authenticate(args.db, NAME)
    try:
        events = AuditLog(args.file).read_for(viewer, args.since, trial_blinded=_trial_blinded(db))
    except AccessDenied as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_AUTHENTICATED
    for row in events.itertuples(index=False):
        print(f"{row.created}\t{row.name}\t{row.actor}\t{row.role}\t{row.page}\t{row.properties}")
    print(f"{len(events)} events")
    record_action("export", viewer, NAME, what="audit trail", rows=len(events), file=str(args.file),
                  since=args.since.isoformat() if args.since else None)
    return 0
