"""``python -m dashboard boundaries``: group-sequential stopping boundaries for the trial statistician, from
the same engine as /monitoring (:mod:`dashboard.domain.group_sequential`), equal to R rpact."""

from __future__ import annotations

import argparse
import json

from dashboard.domain.group_sequential import SPENDING_FUNCTIONS, Design, group_sequential_design

NAME = "boundaries"
HELP = ("Group-sequential efficacy (and non-binding beta-spending futility) boundaries at given information "
        "fractions, equal to R rpact.")


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated fractions such as 0.3,0.65,1; got {text!r}") from None


def configure(parser: argparse.ArgumentParser) -> None:
    spending = ", ".join(f"{k} ({v})" for k, v in SPENDING_FUNCTIONS.items())
    parser.add_argument("--information", required=True, type=_fractions,
                        help="information fractions of the looks, increasing, the last 1 (e.g. 0.3,0.65,1)")
    parser.add_argument("--alpha", type=float, default=0.025,
                        help="one-sided alpha for --sides 1, total two-sided alpha for --sides 2 (default 0.025)")
    parser.add_argument("--sides", type=int, choices=(1, 2), default=1, help="one- or two-sided (default 1)")
    parser.add_argument("--spending", choices=tuple(SPENDING_FUNCTIONS), default="obf",
                        help=f"alpha spending function: {spending} (default obf)")
    parser.add_argument("--gamma", type=float, default=None, help="gamma of the hsd alpha spending function")
    parser.add_argument("--beta", type=float, default=None,
                        help="type II error for a non-binding beta-spending futility boundary (one-sided only)")
    parser.add_argument("--futility-spending", choices=tuple(SPENDING_FUNCTIONS), default=None,
                        help="beta spending function (default: the alpha spending function)")
    parser.add_argument("--futility-gamma", type=float, default=None, help="gamma of the hsd beta spending function")
    parser.add_argument("--json", action="store_true", help="print JSON (keys design, looks)")


def design_report(design: Design) -> dict:
    """What the command prints: the design and one entry per look (rpact's criticalValues, stageLevels (x 2
    when two-sided), alphaSpent, futilityBounds, betaSpent)."""
    return {
        "design": {"alpha": design.alpha, "sides": design.sides, "spending": design.spending, "gamma": design.gamma,
                   "beta": design.beta, "futility_spending": design.futility_spending,
                   "futility_gamma": design.futility_gamma, "binding_futility": False,
                   "drift_at_full_information": design.drift, "description": design.describe(),
                   "method": design.method},
        "looks": [{"information": look.information, "efficacy_z": look.efficacy_z,
                   "efficacy_p_nominal": look.efficacy_p_nominal, "cumulative_alpha": look.cumulative_alpha,
                   "futility_z": look.futility_z, "cumulative_beta": look.cumulative_beta} for look in design.looks],
    }


def format_design(report: dict) -> str:
    sides = report["design"]["sides"]
    lines = [report["design"]["description"], "",
             f"{'look':>4} {'information':>12} {'efficacy Z':>11} {f'nominal p ({sides}-sided)':>22} "
             f"{'cum. alpha':>11} {'futility Z':>11}"]
    for k, look in enumerate(report["looks"], start=1):
        futility = "—" if look["futility_z"] is None else f"{look['futility_z']:.4f}"
        lines.append(f"{k:>4} {look['information']:>12.4f} {look['efficacy_z']:>11.4f} "
                     f"{look['efficacy_p_nominal']:>22.6f} {look['cumulative_alpha']:>11.6f} {futility:>11}")
    return "\n".join(lines + ["", report["design"]["method"]])


def run(args: argparse.Namespace) -> int:
    futility_spending = args.futility_spending or (args.spending if args.beta is not None else None)
    futility_gamma = args.futility_gamma if args.futility_gamma is not None else (
        args.gamma if futility_spending == "hsd" and args.spending == "hsd" else None)
    design = group_sequential_design(args.information, args.alpha, args.sides, args.spending, args.gamma, args.beta,
                                     futility_spending, futility_gamma)
    report = design_report(design)
    print(json.dumps(report, indent=2, allow_nan=False) if args.json else format_design(report))
    return 0
