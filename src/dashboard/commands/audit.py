"""``python -m dashboard audit``: list the audit trail."""

from __future__ import annotations

import argparse
from datetime import datetime

from dashboard import config
from dashboard.access.audit import AuditLog

NAME = "audit"
HELP = "List the audit trail (logins, page views with filters, exports)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=datetime.fromisoformat, default=None,
                        help="only events at or after this time (ISO 8601, UTC if no zone)")
    parser.add_argument("--file", default=config.DASHBOARD_AUDIT.value(), help="audit file (default $DASHBOARD_AUDIT)")


def run(args: argparse.Namespace) -> int:
    events = AuditLog(args.file).read(args.since)
    for row in events.itertuples(index=False):
        print(f"{row.created}\t{row.name}\t{row.actor}\t{row.role}\t{row.page}\t{row.properties}")
    print(f"{len(events)} events")
    return 0
