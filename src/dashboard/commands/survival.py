"""``python -m dashboard survival``: the survival page's numbers on the command line.

Two sources: the trial database, read as the logged-in user (see :func:`dashboard.commands.authenticate`)
through the analysis the page calls (:func:`dashboard.analyses.survival.survival`), so the command prints
exactly what the page shows that user (by arm for the DSMB, pooled for a blinded role); or any CSV with a
time, event and group column, through the same domain analysis (:func:`survival_report`).
"""

from __future__ import annotations

import argparse
import json
from datetime import date

import pandas as pd

from dashboard.access.opening import open_trial_view
from dashboard.access.trial_view import TrialView
from dashboard.analyses.survival import survival
from dashboard.commands import authenticate, record_action
from dashboard.domain.endpoints import ENDPOINTS, MILESTONES
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.domain.survival import CONF_TYPES, analysis_report, survival_report

NAME = "survival"
HELP = "Kaplan-Meier, log-rank, Cox (Efron) and milestone survival, equal to R survival, from the trial or a CSV."
KM_ENDPOINTS = tuple(k for k, e in ENDPOINTS.items() if not e.competing)


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="trial DuckDB file, read as the logged-in user ($DASHBOARD_USER and "
                                     "$DASHBOARD_PASSWORD, or a prompt): by arm for the DSMB, pooled for blinded roles")
    source.add_argument("--csv", help="CSV file with one row per subject")
    parser.add_argument("--endpoint", default="os",
                        help="with --db: os (death; transplant censored), tfs (death or transplant), or the "
                             "PARAMCD of a time-to-event parameter imported from ADaM ADTTE (e.g. TTDE)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="with --db: re-censor all data at this date (YYYY-MM-DD; default the data cut)")
    parser.add_argument("--time", help="with --csv: time column (> 0)")
    parser.add_argument("--event", help="with --csv: event column (1 event, 0 censored)")
    parser.add_argument("--group", help="with --csv: group column (any number of groups)")
    parser.add_argument("--reference", default=None,
                        help="reference group of the hazard ratios (default: the control arm, or the last "
                             "group sorted)")
    parser.add_argument("--conf-type", choices=CONF_TYPES, default="log-log", help="KM CI scale (default log-log)")
    parser.add_argument("--milestones", type=_days, default=tuple(MILESTONES),
                        help="comma-separated days for survival estimates (default 28,90,168,336,672)")
    parser.add_argument("--json", action="store_true", help="print JSON (keys groups, logrank, cox, km, milestones)")


def _days(text: str) -> tuple[float, ...]:
    return tuple(float(d) for d in text.split(",") if d.strip())


def run(args: argparse.Namespace) -> int:
    if not args.db:
        report = _csv_report(args)
        print(json.dumps(report, indent=2, allow_nan=False) if args.json else format_report(report))
        return 0
    view = open_trial_view(authenticate(args.db, NAME), args.db)
    report = _trial_report(args, view)
    print(json.dumps(report, indent=2, allow_nan=False) if args.json else format_report(report))
    record_action("export", view.viewer, NAME, unblinded=view.sees_arms,
                  what=f"survival report {'by arm' if view.sees_arms else 'pooled'}", db=str(args.db),
                  endpoint=args.endpoint, as_of=args.as_of.isoformat() if args.as_of else None,
                  format="json" if args.json else "text", blinding=view.banner)
    return 0


def _trial_report(args: argparse.Namespace, view: TrialView) -> dict:
    if args.endpoint not in KM_ENDPOINTS:
        imported = list(view.tte_parameters()["paramcd"])
        if args.endpoint not in imported:
            raise ValueError(f"--endpoint {args.endpoint!r} is neither os, tfs nor an imported ADTTE parameter "
                             f"of {args.db} ({', '.join(imported) or 'none imported'}).")
        if args.as_of:
            raise ValueError("--as-of needs event dates; imported ADTTE parameters carry only AVAL and CNSR.")
    if args.reference is not None and not view.sees_arms:
        raise ValueError(f"--reference: {view.viewer.label} gets a blinded, pooled report, which has no groups to "
                         "compare.")
    if args.reference is not None and args.reference not in view.arms():
        raise ValueError(f"--reference {args.reference!r} is not a group; groups: {', '.join(view.arms())}.")
    return analysis_report(survival(view, SubjectFilter(), args.endpoint, args.as_of, args.conf_type,
                                    tuple(args.milestones), args.reference))


def _csv_report(args: argparse.Namespace) -> dict:
    rows, groups = _csv_rows(args)
    if args.reference is not None and args.reference not in groups:
        raise ValueError(f"--reference {args.reference!r} is not a group; groups: {', '.join(groups)}.")
    reference = args.reference or groups[-1]
    # The reference is last, as on the page (active first, control last).
    order = [g for g in groups if g != reference] + [reference]
    return survival_report(rows, group_col="group", groups=order, reference=reference, conf_type=args.conf_type,
                           milestones_days=args.milestones)


def _csv_rows(args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    missing = [flag for flag in ("time", "event", "group") if not getattr(args, flag)]
    if missing:
        raise ValueError(f"--csv needs {', '.join('--' + m for m in missing)}.")
    data = pd.read_csv(args.csv)
    absent = [c for c in (args.time, args.event, args.group) if c not in data.columns]
    if absent:
        raise ValueError(f"{args.csv} has no column(s) {absent}; columns: {list(data.columns)}.")
    rows = pd.DataFrame({"usubjid": data.get("usubjid", pd.Series(range(1, len(data) + 1))).astype(str),
                         "time_days": data[args.time], "event": data[args.event],
                         "group": data[args.group].astype(str)})
    return rows, sorted(rows["group"].unique())


def format_report(report: dict) -> str:
    """A readable text version: per-group summary, log-rank, Cox and milestones."""
    def num(v, fmt=".3f"):
        return "NE" if v is None else format(v, fmt)

    lines = [f"{'group':<20}{'n':>6}{'events':>8}{'median':>10}  95% CI"]
    lines += [f"{g['group']:<20}{g['n']:>6}{g['events']:>8}{num(g['median'], '.1f'):>10}  "
              f"{num(g['median_lower'], '.1f')} - {num(g['median_upper'], '.1f')}" for g in report["groups"]]
    if report["logrank"]:
        lr = report["logrank"]
        lines += ["", f"Log-rank chi2 = {lr['chi2']:.4f} on {lr['df']} df, p = {lr['p']:.4g}"]
    if report["cox"]:
        lines += ["", "Cox hazard ratios (Efron ties, 95% Wald CI)"]
        lines += [f"  {c['group']} vs {c['reference']}: HR {num(c['hr'])} ({num(c['lower'])} - {num(c['upper'])}), "
                  f"p = {num(c['p'], '.4g')}" for c in report["cox"]]
    lines += ["", f"{'group':<20}{'day':>8}{'survival':>10}  95% CI"]
    lines += [f"{m['group']:<20}{m['day']:>8g}{num(m['survival']):>10}  {num(m['lower'])} - {num(m['upper'])}"
              for m in report["milestones"]]
    return "\n".join(lines + ["", *report["notes"], report["method"]])
