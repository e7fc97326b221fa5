"""Oracle of ``dashboard.domain.adverse_events``: the AE overview counted from adverse-event rows, equal to
``adverse_events.ae_overview_from_counts`` on ``safety_aggregates.ae_overview_counts`` (same tail)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.domain.adverse_events import FATAL_OUTCOME, _ae_with_subjects, _overview_table
from dashboard.domain.safety_common import SafetyTable


def _category_masks(events: pd.DataFrame) -> dict[str, pd.Series]:
    masks = {
        "any": pd.Series(True, index=events.index),
        "serious": events["serious"].astype(bool),
        "related": events["related"].astype(bool),
        "infusion_related": events["infusion_related"].astype(bool),
        "grade3": events["grade"] >= 3,
        # CTCAE grade 5 is death; an outcome of FATAL says the same, either one counts.
        "fatal": (events["outcome"] == FATAL_OUTCOME) | (events["grade"] == 5),
    }
    if "led_to_discontinuation" in events.columns:
        masks["discontinuation"] = events["led_to_discontinuation"].fillna(False).astype(bool)
    return masks




def ae_overview(ae: pd.DataFrame, subjects: pd.DataFrame, *, group_col: str | None,
                arms: Sequence[str] | None = None) -> SafetyTable:
    """Patients (n, %) and events per AE category and group.

    ``table`` columns: group, category, label, N, n_patients, pct, events. Categories: any, serious,
    related, infusion_related, grade3 (grade >= 3), discontinuation (only when ``ae`` has a boolean
    ``led_to_discontinuation`` column; otherwise omitted and said so in ``method``), fatal (outcome
    FATAL or grade 5). N is the number of patients in ``subjects`` per group. Groups are listed in
    the order of ``arms`` (active first), otherwise alphabetically.
    """
    func = "ae_overview"
    events, subj = _ae_with_subjects(ae, subjects, group_col, func,
                                     ("usubjid", "grade", "serious", "related", "infusion_related", "outcome"))
    big_n = subj.groupby("group")["usubjid"].nunique()
    frames = []
    for key, mask in _category_masks(events).items():
        per_group = events[mask].groupby("group")["usubjid"].agg(["nunique", "size"]).reindex(big_n.index, fill_value=0)
        frames.append(pd.DataFrame({"group": big_n.index, "category": key, "N": big_n.to_numpy(),
                                    "n_patients": per_group["nunique"].to_numpy(), "events": per_group["size"].to_numpy()}))
    return _overview_table(pd.concat(frames, ignore_index=True), arms)
