"""``python -m dashboard state migrate``: bring the state store ($DASHBOARD_STATE, SQLite) to the latest schema."""

from __future__ import annotations

import argparse

from dashboard import config
from dashboard.state import StateStore

NAME = "state"
HELP = "The state store (DSMB meetings and recommendations): apply its schema migrations and print the version."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", default=None,
                        help=f"SQLite state file (default ${config.DASHBOARD_STATE.name} or {config.DASHBOARD_STATE.default})")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("migrate", help="apply the migrations not applied yet (safe to repeat) and print the version")
    sub.add_parser("version", help="print the schema version and the migrations applied")


def run(args: argparse.Namespace) -> int:
    path = args.file or config.DASHBOARD_STATE.value()
    store = StateStore(path, migrate=False)
    if args.action == "migrate":
        before = store.schema_version()
        after = store.migrate()
        print(f"{path}: schema version {after}"
              + (f" (migrated from {before})" if after != before else " (up to date)"))
        return 0
    for version, name, applied in store.applied_migrations() if store.schema_version() else ():
        print(f"{version}\t{applied}\t{name}")
    print(f"{path}: schema version {store.schema_version()} of {store.latest_version}")
    return 0
