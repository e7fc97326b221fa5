"""Domain layer: infusion reactions (pyrexia, rash, hypersensitivity, infusion-related reaction) by onset
window after the end of infusion, and their listing with the peak temperature after that infusion.

Functions on the selected ``adverse_events`` rows (and ``vital_signs`` rows for the listing); groups and
checks as :mod:`dashboard.domain.safety_common`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import require_columns
from dashboard.domain.infusion_temperature import VS_COLUMNS, _peak_post_dose
from dashboard.domain.labstats import with_group
from dashboard.domain.safety_common import SafetyTable, _check_ae, _group_order

REACTION_TERMS = ("Pyrexia", "Rash", "Hypersensitivity", "Infusion related reaction")
# Left-closed windows; onset before the end of infusion (negative hours) counts in the first one.
REACTION_WINDOWS = ("0-2 h", "2-6 h", "6-24 h", ">24 h", "onset not recorded")
_WINDOW_EDGES = (2.0, 6.0, 24.0)


def _reactions(ae: pd.DataFrame) -> pd.DataFrame:
    out = ae[ae["infusion_related"].astype(bool) & ae["term"].isin(REACTION_TERMS)].copy()
    h = out["onset_hours_after"].astype(float)
    out["window"] = np.select(
        [h.isna(), h < _WINDOW_EDGES[0], h < _WINDOW_EDGES[1], h <= _WINDOW_EDGES[2]],
        list(REACTION_WINDOWS[4:5] + REACTION_WINDOWS[0:3]),
        default=REACTION_WINDOWS[3],
    )
    return out


def reactions_by_window(ae: pd.DataFrame, *, group_col: str | None, arms: Sequence[str] | None = None,
                        infusion_num: int | None = None) -> SafetyTable:
    """Infusion-related pyrexia, rash, hypersensitivity and infusion reactions by onset window.

    Returns a :class:`SafetyTable` whose ``table`` has one row per group x term x window (zeros
    included): group, term, window, events, patients. Windows are hours after the end of infusion:
    0-2 h (including onset during the infusion), 2-6 h, 6-24 h, then ">24 h" and "onset not
    recorded" so that no reaction is dropped silently. ``arms`` orders the groups (active first)
    and adds all-zero rows for an arm without any adverse event. ``infusion_num`` keeps only the
    reactions to that infusion (None: all infusions).
    """
    func = "reactions_by_window"
    required = ("usubjid", "term", "infusion_related", "onset_hours_after")
    _check_ae(ae, func, group_col, required if infusion_num is None else (*required, "infusion_num"))
    grouped = with_group(ae, group_col)
    rx = _reactions(grouped)
    if infusion_num is not None:
        rx = rx[rx["infusion_num"] == infusion_num]
    if group_col is None:
        groups = [POOLED_LABEL]
    else:
        groups = _group_order(list(grouped["group"].unique()) + list(arms or ()), arms)
    counts = rx.groupby(["group", "term", "window"]).agg(events=("usubjid", "size"), patients=("usubjid", "nunique"))
    full = pd.MultiIndex.from_product([groups, REACTION_TERMS, REACTION_WINDOWS], names=["group", "term", "window"])
    table = counts.reindex(full, fill_value=0).reset_index()
    table[["events", "patients"]] = table[["events", "patients"]].astype(int)
    method = ("Infusion-related AEs with terms " + ", ".join(REACTION_TERMS) + "; onset in hours after the end of "
              "infusion, windows left-closed [0, 2), [2, 6), [6, 24]; patients counted once per window.")
    return SafetyTable(table, method)


def reaction_listing(vs: pd.DataFrame, ae: pd.DataFrame, *, group_col: str | None) -> pd.DataFrame:
    """One row per infusion reaction with the peak 0-24 h temperature after that infusion.

    Columns: group, usubjid, infusion_num, term, grade, onset_hours_after, window, peak_temp,
    peak_hour, serious, outcome. ``peak_temp`` is NaN when no post-dose temperature was taken or the
    reaction has no infusion number.
    """
    func = "reaction_listing"
    require_columns(func, vs, VS_COLUMNS, arg="vs")
    _check_ae(ae, func, group_col, ("usubjid", "term", "grade", "serious", "infusion_related",
                                    "infusion_num", "onset_hours_after", "outcome"))
    rx = _reactions(with_group(ae, group_col))
    peak = _peak_post_dose(vs)
    rx["infusion_num"] = rx["infusion_num"].astype("Int64")
    peak["infusion_num"] = peak["infusion_num"].astype("Int64")
    out = rx.merge(peak, on=["usubjid", "infusion_num"], how="left")
    cols = ["group", "usubjid", "infusion_num", "term", "grade", "onset_hours_after", "window",
            "peak_temp", "peak_hour", "serious", "outcome"]
    return out[cols].sort_values(["group", "usubjid", "infusion_num", "onset_hours_after"]).reset_index(drop=True)
