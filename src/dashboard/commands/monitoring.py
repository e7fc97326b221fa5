"""``python -m dashboard monitoring``: /monitoring's numbers on the command line, from the same analysis
(:func:`dashboard.analyses.monitoring.monitoring`), read as the logged-in user (``DASHBOARD_USER`` /
``DASHBOARD_PASSWORD`` or a prompt, see :func:`dashboard.commands.authenticate`) and audited. The DSMB gets
everything by arm; a blinded role gets the pooled parts only, as on the page (events, information, the looks
reached and the next look's projection), with no Z, hazard ratio, boundary status, conditional power or
safety rule."""

from __future__ import annotations

import argparse
import json
import math

from dashboard.access.opening import open_trial_view
from dashboard.analyses.monitoring import Monitoring, monitoring
from dashboard.commands import authenticate, record_action
from dashboard.commands.boundaries import design_report, format_design
from dashboard.config import DASHBOARD_DB
from dashboard.data.charters import read_charter_file
from dashboard.domain.monitoring_tables import looks_display, safety_rules_display

NAME = "monitoring"
HELP = ("Interim monitoring against the DSMB charter: information, log-rank Z, boundaries at the observed looks, "
        "conditional and predictive power, repeated CI, safety rules (logs in: by arm for the DSMB, pooled parts "
        "for blinded roles; audited).")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DASHBOARD_DB.default, help=f"trial DuckDB file (default {DASHBOARD_DB.default})")
    parser.add_argument("--charter", default=None,
                        help="charter TOML to monitor against instead of the one loaded with the cut (docs/charter.md)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _finite(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def monitoring_report(m: Monitoring) -> dict:
    """Everything /monitoring shows the DSMB, as plain values."""
    cp = m.conditional
    looks = m.looks_table.astype(object).where(m.looks_table.notna(), None) if m.looks_table is not None else None
    return {
        "charter": {"version": m.charter.version, "title": m.charter.title, "sha256": m.charter.sha256,
                    "endpoint": m.charter.endpoint, "planned_events": m.spec.planned_events,
                    "information_fractions": list(m.spec.fractions)},
        "cut_date": m.cut_date.isoformat(), "events": m.events, "information": m.information,
        "next_look": None if m.next_look is None else {
            "look": m.next_look.number, "events": m.next_look.events,
            "expected_on": m.next_look.expected_on.isoformat() if m.next_look.expected_on else None,
            "note": m.next_look.note},
        "observed": [{"label": c.label, "date": c.on.isoformat(), "events": c.events, "information": c.information,
                      "z": c.z, "hazard_ratio": c.hazard_ratio} for c in m.cuts],
        "boundaries": design_report(m.design) if m.design is not None else None,
        "looks": None if looks is None else [
            {k: (v.isoformat() if hasattr(v, "isoformat") else _finite(v)) for k, v in row.items()}
            for row in looks.to_dict("records")],
        "status": None if m.status is None else m.status.message,
        "conditional_power": None if cp is None else {
            "trend": cp.trend, "trend_hazard_ratio": cp.trend_hazard_ratio, "design": cp.design,
            "design_hazard_ratio": cp.design_hazard_ratio, "null": cp.null, "predictive": cp.predictive,
            "additional_events": cp.additional_events},
        "design_power": None if m.power is None else {
            "power": m.power.power, "events_for_80": m.power.events_for_80, "events_for_90": m.power.events_for_90,
            "fixed_sample_events_for_80": m.power.fixed_sample_events_for_80},
        "safety_rules": [{"id": r.rule.id, "description": r.rule.description, "met": r.met, "counts": r.counts,
                          "patients": list(r.patients)} for r in m.safety],
    }


def format_monitoring(m: Monitoring, report: dict) -> str:
    lines = [f"DSMB charter {m.charter.version}: {m.endpoint_label}; data cut {report['cut_date']}",
             f"Events {m.events} of {m.spec.planned_events} planned (information {m.information:.1%})"]
    if m.next_look is not None:
        lines.append(f"Next look {m.next_look.number} at {m.next_look.events} events: {m.next_look.note}")
    if m.looks_table is not None:
        lines += ["", looks_display(m.looks_table, m.spec.sides).to_string(index=False)]
    if report["boundaries"]:
        lines += ["", format_design(report["boundaries"])]
    if m.status is not None:
        lines += ["", m.status.message]
    if m.conditional is not None:
        cp = m.conditional
        lines += ["", f"Conditional power: trend (HR {cp.trend_hazard_ratio:.3f}) {cp.trend:.4f}; design HR "
                      f"{cp.design_hazard_ratio:g} {cp.design:.4f}; H0 {cp.null:.4f}; predictive (flat prior) "
                      f"{cp.predictive:.4f}; {cp.additional_events} more events to the final analysis"]
    if m.safety:
        lines += ["", safety_rules_display(m.safety).to_string(index=False)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    charter = read_charter_file(args.charter) if args.charter else None
    view = open_trial_view(authenticate(args.db, NAME), args.db)
    result = monitoring(view, charter)
    report = monitoring_report(result)
    print(json.dumps(report, indent=2, allow_nan=False) if args.json else format_monitoring(result, report))
    record_action("export", view.viewer, NAME, unblinded=view.sees_arms,
                  what=f"interim monitoring {'by arm' if view.sees_arms else 'pooled'}", db=str(args.db),
                  charter=report["charter"]["sha256"], format="json" if args.json else "text", blinding=view.banner)
    return 0
