"""The protocol's visit schedule and windows, and the infusion days (DESIGN §3, issue 2).

Study day 1 is the day of the first infusion; baseline is the last value on or before day 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Visit:
    visit: str
    visit_num: int
    target_day: int
    window_lo: int
    window_hi: int


VISITS: tuple[Visit, ...] = (
    Visit("Baseline", 0, 1, -2, 1),
    Visit("W1", 1, 8, 6, 10),
    Visit("W2", 2, 15, 13, 17),
    Visit("W4", 3, 29, 26, 32),
    Visit("W8", 4, 57, 54, 60),
    Visit("W12", 5, 85, 78, 92),
    Visit("W24", 6, 169, 155, 183),
    Visit("W36", 7, 253, 239, 267),
    Visit("W48", 8, 337, 323, 351),
    Visit("W72", 9, 505, 484, 526),
    Visit("W96", 10, 673, 645, 701),
)
INFUSION_DAYS: tuple[int, ...] = (1, 29, 57)
FOLLOW_UP_DAYS = VISITS[-1].target_day
# Temperature is taken before the infusion (-1), at its end (0) and 1-24 h after it.
TEMPERATURE_TIMEPOINTS: tuple[tuple[str, float], ...] = (
    ("PRE", -1.0), ("EOI", 0.0), ("1H", 1.0), ("2H", 2.0), ("4H", 4.0), ("8H", 8.0), ("24H", 24.0),
)

