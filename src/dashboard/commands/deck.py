"""``python -m dashboard deck``: the meeting deck (PPTX) for the logged-in user and a patient selection.

The deck is built as the app's button builds it (:func:`dashboard.reports.deck.build_deck`) for the user who
logged in (``DASHBOARD_USER`` / ``DASHBOARD_PASSWORD`` or a prompt, see :func:`dashboard.commands.authenticate`),
with that user's role, so a blinded role gets pooled slides only. Filters take the app's URL values
(comma-separated lists), the same filters as the sidebar; a value the trial does not have is refused rather
than silently dropped, and ``--arm`` is refused for a blinded role (filtering by arm would unblind the deck).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard import config
from dashboard.access.opening import open_trial_view
from dashboard.commands import authenticate, record_action
from dashboard.domain.subject_filter import SubjectFilter
from dashboard.errors import InsufficientData
from dashboard.reports.deck import build_deck, deck_filename
from dashboard.reports.provenance import provenance_line

NAME = "deck"
HELP = "Build the meeting deck (PPTX): status, survival, key labs, ascites, infusion safety, adverse events."
LIST_FILTERS = ("site", "sex", "etiology", "lf_type", "status", "arm")
RANGE_FILTERS = {"age_min": int, "age_max": int, "meld_min": float, "meld_max": float}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None,
                        help="PPTX file to write (default: <study>_meeting_deck_cut<date>_<blinding>.pptx here)")
    parser.add_argument("--db", default=None, help=f"trial DuckDB file (default ${config.DASHBOARD_DB.name} or "
                                                   f"{config.DASHBOARD_DB.default})")
    for key in LIST_FILTERS:
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, default="",
                            help=f"only patients with this {key.replace('_', ' ')} (comma-separated values)")
    for key, cast in RANGE_FILTERS.items():
        what, bound = key.split("_")
        parser.add_argument(f"--{what}-{bound}", dest=key, type=cast, default=None,
                            help=f"{bound}imum {'age (years)' if what == 'age' else 'baseline MELD'}")
    parser.add_argument("--id-contains", dest="q", default="", help="only patients whose id contains this text")


def subject_filter(args: argparse.Namespace, choices: dict[str, tuple[str, ...]], sees_arms: bool,
                   role: str = "blinded") -> SubjectFilter:
    """The filter of the command-line values, parsed as the app parses its URL; unknown values are errors."""
    params = {key: getattr(args, key) for key in LIST_FILTERS if getattr(args, key)}
    if "arm" in params and not sees_arms:
        raise ValueError(f"--arm: the {role} role's deck is blinded; filtering by arm would unblind it. "
                         "Only the DSMB role may filter by arm.")
    for key, raw in params.items():
        unknown = [v.strip() for v in raw.split(",") if v.strip() and v.strip() not in choices[key]]
        if unknown:
            raise ValueError(f"--{key.replace('_', '-')} {', '.join(unknown)}: not in this trial; "
                             f"known values: {', '.join(choices[key])}.")
    params |= {key: str(getattr(args, key)) for key in RANGE_FILTERS if getattr(args, key) is not None}
    if args.q:
        params["q"] = args.q
    f = SubjectFilter.from_query_params(params, allowed=choices, allow_arm=sees_arms)
    if f.notes:  # a value the app would drop from a link (age outside 18-80, say) is an error here
        raise ValueError(" ".join(f.notes))
    return f


def run(args: argparse.Namespace) -> int:
    db = Path(args.db) if args.db else config.db_path()
    if not db.exists():
        raise FileNotFoundError(f"{db} does not exist. Pass --db or build one with `python -m dashboard simulate`.")
    view = open_trial_view(authenticate(db, NAME), db)
    f = subject_filter(args, view.filter_choices(), view.sees_arms, view.viewer.role)
    try:
        deck = build_deck(view, f, provenance_line(view.study(), view.checksum, f, view.banner))
    except InsufficientData as exc:
        raise ValueError(str(exc)) from exc
    out = Path(args.out or deck_filename(view))
    out.write_bytes(deck)
    record_action("export", view.viewer, NAME, unblinded=view.sees_arms, what=out.name, db=str(db),
                  filters=f.to_query_params(), blinding=view.banner, cut_id=view.cut_id)
    print(f"Wrote {out} ({len(deck) / 1e6:.1f} MB): {view.banner}; {f.describe()}.")
    return 0
