"""Labs and ascites of the simulated trial, all derived from the latent severity ``s`` (see simulate.py).

Each lab is an interpolation between a healthy value (s = 0) and the typical HBV-ACLF entry value
(s = 1, domain.md §3.3), plus a patient effect and measurement noise. PT and INR are derived from
the prothrombin activity with the hyperbolic calibration of domain.md §6, so the three agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.labs import BY_CODE, MEASURED_CODES
from dashboard.domain.meld import meld, meld3, meld_na
from dashboard.domain.visits import VISITS

# Two reference-range variants, as the trial's local labs differ (domain.md §3.2); each site uses one.
RANGE_VARIANTS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "BILI": ((3.4, 17.1), (3.4, 20.5)),
    "AST": ((0.0, 40.0), (0.0, 37.0)),
    "CHE": ((5000.0, 12000.0), (4000.0, 10000.0)),
    "PT": ((11.0, 14.0), (12.0, 14.0)),
    "PTA": ((75.0, 100.0), (70.0, 130.0)),
    "ALB": ((35.0, 55.0), (40.0, 55.0)),
}
PT_NORMAL_SECONDS = (12.0, 12.5)  # mean normal PT of each variant's reagent
PT_ISI = (1.0, 1.15)
PT_CALIBRATION_ALPHA = 0.6


def _patient_effect(rng: np.random.Generator, n: int, sd: float, rows: np.ndarray) -> np.ndarray:
    return rng.normal(0.0, sd, n)[rows]


def labs_from_severity(rng, visits, sev, usubjid, site_of_row, female, effect_on, day1) -> pd.DataFrame:
    """Long lab table (one row per patient x parameter x visit), stored ordered by paramcd, usubjid."""
    n = len(usubjid)
    rows = visits["row"]
    m = len(rows)
    t = visits["study_day"].astype(float) - 1.0
    noise = lambda sd: rng.normal(0.0, sd, m)  # noqa: E731 - one-line local shorthand keeps formulas readable
    # The UC-MSC effect on bilirubin, albumin and creatinine rises over the first week, holds through the
    # infusion period to about week 12 and is gone by week 24 (domain.md §2.5).
    effect = np.where(effect_on[rows], (1.0 - np.exp(-t / 7.0)) / (1.0 + np.exp((t - 110.0) / 18.0)), 0.0)

    values: dict[str, np.ndarray] = {}
    values["BILI"] = np.exp(np.log(12.0) + sev * np.log(330.0 / 12.0) + _patient_effect(rng, n, 0.15, rows)
                            + noise(0.12) - 0.8 * effect)
    dbil_ratio = np.clip(0.35 + 0.35 * np.minimum(sev, 1.0) + noise(0.04), 0.2, 0.9)
    values["BILDIR"] = values["BILI"] * dbil_ratio
    values["ALB"] = np.clip(42.0 - 11.5 * sev + _patient_effect(rng, n, 2.5, rows) + noise(1.5) + 2.5 * effect, 15, 55)
    values["PROT"] = np.clip(values["ALB"] + 25.0 + _patient_effect(rng, n, 3.0, rows) + noise(2.0), 30, 95)
    # Transaminases peak at entry and fall quickly even in patients who do badly ("burnt out" liver).
    alt_drive = (sev * np.exp(-t / 18.0) + 0.3 * sev) / 1.3
    values["ALT"] = np.exp(np.log(25.0) + alt_drive * np.log(10.0) + _patient_effect(rng, n, 0.7, rows) + noise(0.25))
    values["AST"] = values["ALT"] * np.exp(np.log(0.9) + _patient_effect(rng, n, 0.35, rows) + noise(0.1))
    values["CHE"] = np.exp(np.log(7000.0) - sev * np.log(7000.0 / 2600.0) + _patient_effect(rng, n, 0.3, rows) + noise(0.1))
    # AFP marks regeneration: it peaks about three weeks in, highest in patients whose liver recovers.
    regen_capacity = np.clip(4.2 - 2.0 * (sev - 0.6), 1.0, 5.0)
    bump = ((t + 10.0) / 30.0) * np.exp(1.0 - (t + 10.0) / 30.0)
    values["AFP"] = np.exp(np.log(4.0) + _patient_effect(rng, n, 0.9, rows) + regen_capacity * bump + noise(0.2))
    activity = np.clip(1.0 - 0.68 * sev + _patient_effect(rng, n, 0.05, rows) + noise(0.04), 0.10, 1.3)
    variant = site_of_row % 2
    pt_normal = np.take(PT_NORMAL_SECONDS, variant)
    values["PTA"] = activity * 100.0
    values["PT"] = pt_normal * (PT_CALIBRATION_ALPHA + (1.0 - PT_CALIBRATION_ALPHA) / activity)
    values["INR"] = (values["PT"] / pt_normal) ** np.take(PT_ISI, variant)
    kidney = 1.2 * np.maximum(sev - 1.05, 0.0)
    values["CREAT"] = np.exp(np.log(68.0) + 0.15 * sev + kidney + _patient_effect(rng, n, 0.2, rows)
                             + noise(0.08) - 0.12 * effect)
    values["SODIUM"] = 141.0 - 7.0 * sev - 8.0 * np.maximum(sev - 1.05, 0.0) + _patient_effect(rng, n, 2.0, rows) + noise(1.5)

    for code in MEASURED_CODES:
        values[code] = np.round(values[code], BY_CODE[code].decimals)
    fem = female[rows]
    values["MELD"] = meld(values["BILI"], values["INR"], values["CREAT"])
    values["MELDNA"] = meld_na(values["BILI"], values["INR"], values["CREAT"], values["SODIUM"])
    values["MELD3"] = meld3(values["BILI"], values["INR"], values["CREAT"], values["SODIUM"], values["ALB"], fem)

    visit_idx = visits["visit_idx"]
    visit_label = np.array([v.visit for v in VISITS])[visit_idx]
    visit_num = np.array([v.visit_num for v in VISITS])[visit_idx]
    collected = day1[rows] + (visits["study_day"] - 1).astype("timedelta64[D]")
    frames = []
    for code in sorted(values):
        p = BY_CODE[code]
        lo, hi = _limits(code, variant, m)
        frames.append(pd.DataFrame({
            "usubjid": usubjid[rows],
            "paramcd": code,
            "param": p.name,
            "unit": p.unit,
            "visit": visit_label,
            "visit_num": visit_num,
            "study_day": visits["study_day"],
            "collected_on": collected,
            "value": values[code],
            "lower_limit": lo,
            "upper_limit": hi,
        }))
    return pd.concat(frames, ignore_index=True)


def _limits(code: str, variant: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    p = BY_CODE[code]
    if code in RANGE_VARIANTS:
        pair = RANGE_VARIANTS[code]
        return np.take([pair[0][0], pair[1][0]], variant), np.take([pair[0][1], pair[1][1]], variant)
    nan = np.full(m, np.nan)
    lo = nan if p.lower_limit is None else np.full(m, p.lower_limit)
    hi = nan if p.upper_limit is None else np.full(m, p.upper_limit)
    return lo, hi


def ascites_from_severity(rng, visits, sev, usubjid) -> pd.DataFrame:
    """ICA grade, deepest-pocket depth (cm) and estimated volume (mL) at every attended visit.

    Depth bands follow Chinese ultrasound practice (small < 3 cm, moderate 3-10 cm, large > 10 cm)
    and volume the rule of thumb depth x 100 mL (domain.md §7).
    """
    rows = visits["row"]
    m = len(rows)
    latent = rng.normal(0.0, 0.6, len(usubjid))[rows] + 2.6 * (sev - 0.62) + rng.normal(0.0, 0.35, m)
    grade = np.digitize(latent, [0.6, 1.5, 2.4])
    u = rng.random(m)
    depth = np.select([grade == 1, grade == 2, grade == 3], [0.5 + 2.4 * u, 3.0 + 7.0 * u, 10.0 + 6.0 * u], 0.0)
    volume = np.where(grade > 0, np.round(depth * 100.0 * rng.lognormal(0.0, 0.2, m), -1), 0.0)
    visit_idx = visits["visit_idx"]
    return pd.DataFrame({
        "row": rows,
        "usubjid": usubjid[rows],
        "visit": np.array([v.visit for v in VISITS])[visit_idx],
        "visit_num": np.array([v.visit_num for v in VISITS])[visit_idx],
        "study_day": visits["study_day"],
        "grade": grade,
        "depth_cm": np.round(depth, 1),
        "volume_ml": volume,
    })
