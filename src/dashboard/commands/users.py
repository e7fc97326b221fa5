"""``python -m dashboard users``: manage the local users file (salted bcrypt hashes)."""

from __future__ import annotations

import argparse
import getpass

from dashboard import config
from dashboard.access.users import UserStore
from dashboard.access.viewer import ROLES
from dashboard.commands import record_action

NAME = "users"
HELP = "Add, remove, list users and set their role or password (embedded login)."
PASSWORD_HELP = "read the password from standard input (12+ characters, not a common password or the username)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", default=config.DASHBOARD_USERS.value(), help="users file (default $DASHBOARD_USERS)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="add a user")
    add.add_argument("username", help="1 to 64 letters, digits and . _ @ -")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--password-stdin", action="store_true", help=PASSWORD_HELP)
    sub.add_parser("list", help="list users and roles")
    remove = sub.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    role = sub.add_parser("set-role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    pw = sub.add_parser("set-password", help="change a user's password")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help=PASSWORD_HELP)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return input().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ValueError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    store = UserStore(args.file)
    if args.action == "list":
        for u in store.load().values():
            demo = "\t(demo)" if u.demo else ""
            print(f"{u.username}\t{u.role}\t{u.display_name}{demo}")
        return 0
    if args.action == "add":
        store.add(args.username, _password(args), args.role, args.name)
    elif args.action == "remove":
        store.remove(args.username)
    elif args.action == "set-role":
        store.set_role(args.username, args.role)
    elif args.action == "set-password":
        store.set_password(args.username, _password(args))
    record_action("user_admin", "cli", "users", action=args.action, user=args.username)
    print(f"{args.action}: {args.username} done")
    return 0
