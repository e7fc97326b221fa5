"""One command-line entry point, ``python -m dashboard <command>``; each command is a module in
:mod:`dashboard.commands` exposing ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys

from dashboard.config import SETTINGS

COMMAND_MODULES = ("simulate", "import_cut", "survival", "boundaries", "monitoring", "deck", "report", "users", "audit",
                   "state")


def build_parser() -> argparse.ArgumentParser:
    epilog = "Environment:\n" + "\n".join(f"  {s.name} (default {s.default}): {s.help}" for s in SETTINGS)
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.split(";")[0],
                                     epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"dashboard.commands.{module_name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
