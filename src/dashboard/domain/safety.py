"""Domain layer: infusion safety, the names the pages and the application layer use.

The statistics live in three modules, re-exported here:

- :mod:`dashboard.domain.infusion_temperature`: body temperature 0-24 h after each infusion and fever
  incidence (proportions with exact CIs, risk difference between arms), from SQL aggregates;
- :mod:`dashboard.domain.infusion_reactions`: infusion reactions by onset window and their listing;
- :mod:`dashboard.domain.safety_common`: the result table type, groups, checks and proportion CIs they share
  with :mod:`dashboard.domain.adverse_events` (tables, listings and rates of adverse events).

Every result names its group column ``group``: the arm, or the single label ``POOLED_LABEL`` for a blinded
caller (DESIGN §4: pool, never relabel).
"""

from __future__ import annotations

from dashboard.domain.infusion_reactions import REACTION_TERMS, REACTION_WINDOWS, reaction_listing, reactions_by_window
from dashboard.domain.infusion_temperature import (
    FEVER_COUNT_COLUMNS,
    FEVER_THRESHOLDS,
    FEVER_TOLERANCE,
    POST_DOSE_HOURS,
    VS_COLUMNS,
    FeverIncidence,
    TemperatureSummary,
    fever_from_counts,
    temperature_from_aggregates,
    temperature_readings,
)
from dashboard.domain.safety_common import SafetyTable, clopper_pearson, newcombe_difference, wilson

__all__ = [
    "FEVER_COUNT_COLUMNS", "FEVER_THRESHOLDS", "FEVER_TOLERANCE", "POST_DOSE_HOURS", "REACTION_TERMS",
    "REACTION_WINDOWS", "VS_COLUMNS", "FeverIncidence", "SafetyTable", "TemperatureSummary", "clopper_pearson",
    "fever_from_counts", "newcombe_difference", "reaction_listing", "reactions_by_window", "temperature_from_aggregates",
    "temperature_readings", "wilson",
]
