"""``python -m dashboard import``: validate a data delivery (SDTM, ADaM or the CSV template) and load it
as a new data cut, replacing the database atomically and keeping every earlier cut."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from dashboard.commands import record_action
from dashboard.config import DASHBOARD_DB
from dashboard.data.importers import IMPORTERS
from dashboard.data.importers.cuts import DatabaseBusy
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from dashboard.data.importers.problems import ImportValidationError
from dashboard.domain.charter import CharterError

NAME = "import"
BUSY = 75  # EX_TEMPFAIL: another import was publishing; try again
BAD_CHARTER = 2  # the --charter file is invalid: nothing was read or written
HELP = "Validate a data delivery (SDTM, ADaM or CSV template; folder or .zip) and load it as a new data cut."


def configure(parser: argparse.ArgumentParser) -> None:
    formats = "; ".join(f"{m.FORMAT}: {m.HELP}" for m in IMPORTERS)
    parser.add_argument("--format", required=True, choices=[m.FORMAT for m in IMPORTERS], help=formats)
    parser.add_argument("source", help="folder or .zip holding the delivered .xpt/.csv/.parquet files")
    parser.add_argument("--cut-date", required=True, type=date.fromisoformat, help="data cut date YYYY-MM-DD")
    parser.add_argument("--db", default=DASHBOARD_DB.default,
                        help=f"trial database to replace (default {DASHBOARD_DB.default}); every cut is also "
                             "kept as <db dir>/cuts/<db name>/cut-<id>.duckdb")
    parser.add_argument("--mapping", default=None, help="TOML mapping file for non-standard codes, units and domains "
                                                        "(docs/importing.md)")
    parser.add_argument("--reference-arm", default=None, help="control arm (default 'Placebo' if there is one)")
    parser.add_argument("--active-arm", default=None, help="active arm shown against the reference "
                                                           "(default: the first other arm by name)")
    parser.add_argument("--study-id", default=None, help="study identifier (default STUDYID from the data)")
    parser.add_argument("--unblinded", action="store_true", help="the trial has been unblinded (default: blinded)")
    parser.add_argument("--randomization", default=None,
                        help="the randomisation as its own CSV file (usubjid,arm), e.g. from the unblinded statistician: "
                             "its arms replace the delivery's, which may then be masked; stored apart from the trial "
                             "data, beside the database as <name>.randomization.duckdb")
    parser.add_argument("--charter", default=None, metavar="FILE",
                        help="DSMB charter (TOML, docs/charter.md) in force from this cut; checked before the delivery "
                             "is read (exit 2 when invalid). Without it the previous cut's charter is carried forward")


def run(args: argparse.Namespace) -> int:
    settings = ImportSettings(format=args.format, source=args.source, cut_date=args.cut_date, db=args.db,
                              mapping=args.mapping, reference_arm=args.reference_arm, active_arm=args.active_arm,
                              study_id=args.study_id, unblinded=args.unblinded,
                              # scripts may build args without these
                              charter=getattr(args, "charter", None), randomization=getattr(args, "randomization", None))
    try:
        result = import_cut(settings)
    except ImportValidationError as exc:
        record_action("import", "cli", NAME, source=str(args.source), format=args.format, db=str(args.db),
              outcome="rejected", problems=exc.total)
        print(f"Import rejected: {exc}", file=sys.stderr)
        return 1
    except CharterError as exc:
        record_action("import", "cli", NAME, source=str(args.source), format=args.format, db=str(args.db),
                      outcome="rejected", charter=str(args.charter), problems=len(exc.problems))
        print(f"Import rejected: the DSMB charter is invalid ({len(exc.problems)} problem(s)); nothing was written "
              f"and the current data cut is unchanged.\n{exc}", file=sys.stderr)
        return BAD_CHARTER
    except DatabaseBusy as exc:
        record_action("import", "cli", NAME, source=str(args.source), format=args.format, db=str(args.db),
                      outcome="busy")
        print(f"Import not published: {exc}", file=sys.stderr)
        return BUSY
    record_action("import", "cli", NAME, source=str(args.source), format=args.format, db=str(args.db), outcome="published",
          cut_id=int(result.cut["cut_id"]), checksum=str(result.cut["checksum"]),
          **({"charter": str(args.charter), "charter_sha256": result.charter.sha256} if result.charter else {}))
    for warning in result.warnings:
        print(f"note: {warning}")
    counts = ", ".join(f"{name} {len(df):,}" for name, df in result.tables.items())
    print(f"Imported {args.format.upper()} cut {result.cut['cut_id']} (data cut {result.cut['cut_date']}) into "
          f"{args.db} in {result.seconds:.1f} s: {counts}. Kept a copy at {result.kept}.")
    if result.charter is not None:
        print(f"DSMB charter {result.charter.version} ({args.charter}, sha256 {result.charter.sha256[:12]}) is in force "
              f"from cut {result.cut['cut_id']}.")
    return 0
