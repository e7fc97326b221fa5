"""Labs, clinical assessments and ascites of the simulated trial, all following the latent course (sim_course.py).

Each lab interpolates between a healthy value and the typical HBV-ACLF entry value (domain.md §3.3) through
its own driver ``d = k c + (1 - k c) s``: at entry (s about 1) d is about 1 whatever the background c, and a
recovered patient (s near 0) settles at ``k c``, the lab's cirrhotic plateau. ``k`` says how much of the
lab the chronic disease keeps abnormal: most for albumin and the prothrombin activity, less for bilirubin,
none for the transaminases. A patient effect and measurement noise come on top; PT and INR are derived
from the prothrombin activity with the hyperbolic calibration of domain.md §6, so the three agree.

Every randomised patient meets the entry criteria at baseline (deviations.ENTRY_CRITERIA: bilirubin >= 171
umol/L, PTA <= 40% or INR >= 1.5), as screening leaves only eligible patients: the patient effects of
bilirubin and prothrombin activity and their baseline noise are drawn given eligibility (a truncated normal
for their sum). Bilirubin saturates smoothly towards 1,000 umol/L, near the highest values reported in
HBV-ACLF (domain.md §3.1: 442.5 +- 116.4 umol/L at entry).

Intercurrent events change the assessments made while they last (``episodes``, from the adverse events):
an infection raises CRP, procalcitonin and white cells, sepsis also lactate and lowers the blood pressure;
encephalopathy sets the West Haven grade; a gastrointestinal bleed lowers haemoglobin; acute kidney injury
multiplies creatinine by its stage's factor (ICA-AKI, Angeli 2015: stage 1 x1.5-2, stage 2 x2-3, stage 3
x3 or more, renal replacement). A death's cause moves its values towards the cause's picture as its
``signature`` rises (targets per cause below).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from dashboard.data.sim_course import (
    BLEEDING,
    ENCEPHALOPATHY,
    HEPATIC_FAILURE,
    HEPATORENAL,
    MODS,
    SEPSIS,
    UNSCHEDULED,
    Course,
)
from dashboard.domain.deviations import ENTRY_CRITERIA
from dashboard.domain.labs import BY_CODE, MEASURED_CODES
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
BILI_CEILING = 1000.0  # umol/L, approached smoothly
CRP_CEILING = 500.0  # mg/L: the highest values of septic shock
UNSCHEDULED_VISIT = "Unscheduled"
# Per episode grade 0-4: log increase of CRP, procalcitonin and white cells during an infection.
INFECTION_LOG_RISE = {"CRP": (0.0, 1.0, 1.5, 2.0, 2.4), "PCT": (0.0, 0.4, 0.8, 1.4, 2.0), "WBC": (0.0, 0.2, 0.35, 0.5, 0.6)}
BLEED_HGB_FALL = (0.0, 10.0, 18.0, 28.0, 40.0)  # g/L
AKI_FACTOR = ((1.0, 1.0), (1.5, 1.95), (2.0, 2.95), (3.0, 3.9), (3.0, 4.5))  # creatinine x, uniform in range
# Share of deaths from each shock-prone cause treated with vasopressors in their last days.
VASOPRESSOR_P = {SEPSIS: 0.7, MODS: 0.85, BLEEDING: 0.5}
RRT_P = {HEPATORENAL: 0.35, MODS: 0.3}


@dataclass(frozen=True)
class _Assessments:
    """What every lab formula reads: the course at each assessment and the random source."""

    rng: np.random.Generator
    course: Course
    effect: np.ndarray  # the UC-MSC effect at each assessment, 0..1
    episodes: dict[str, np.ndarray]

    @property
    def rows(self) -> np.ndarray:
        return self.course.row

    @property
    def n(self) -> int:
        return len(self.course.chronic)

    @property
    def s(self) -> np.ndarray:
        return self.course.severity

    @property
    def c(self) -> np.ndarray:
        return self.course.chronic[self.course.row]

    @property
    def baseline(self) -> np.ndarray:
        return self.course.visit_idx == 0

    def drive(self, k: float) -> np.ndarray:
        """The lab's driver: 1 at entry, ``k`` x chronic when recovered (module docstring)."""
        return k * self.c + (1.0 - k * self.c) * self.s

    def patient(self, sd: float) -> np.ndarray:
        """A patient effect ~ N(0, sd), the same at each of the patient's assessments."""
        return self.rng.normal(0.0, sd, self.n)[self.rows]

    def noise(self, sd: float) -> np.ndarray:
        return self.rng.normal(0.0, sd, len(self.rows))

    def each(self, per_patient: np.ndarray) -> np.ndarray:
        """A per-patient draw spread over the patient's assessments."""
        return per_patient[self.rows]

    def uniform(self, low: float, high: float) -> np.ndarray:
        """A per-patient uniform draw, at each of the patient's assessments."""
        return self.each(self.rng.uniform(low, high, self.n))

    def dying(self, cause: int) -> np.ndarray:
        """The signature of ``cause`` (0..1) at each assessment; 0 for any other cause or none."""
        return np.where(self.course.cause[self.rows] == cause, self.course.signature, 0.0)


def simulate_labs(rng: np.random.Generator, course: Course, site: np.ndarray, female: np.ndarray,
                  effect_on: np.ndarray, episodes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every measured lab and assessment at every assessment of ``course``, by parameter code (the derived
    scores come from data.derived_parameters)."""
    t = course.study_day.astype(float) - 1.0
    # The UC-MSC effect on bilirubin, albumin and creatinine rises over the first week, holds through the
    # infusion period to about week 12 and is gone by week 24 (domain.md §2.5).
    effect = np.where(effect_on[course.row], (1.0 - np.exp(-t / 7.0)) / (1.0 + np.exp((t - 120.0) / 18.0)), 0.0)
    a = _Assessments(rng, course, effect, episodes)
    values = {**_liver(a, site[course.row] % 2), **_kidney_and_sodium(a), **_blood(a, female[course.row]),
              **_inflammation(a), **_circulation_and_lungs(a), "HEGRADE": _encephalopathy(a)}
    return {code: np.round(values[code], BY_CODE[code].decimals) for code in MEASURED_CODES}


def _liver(a: _Assessments, variant: np.ndarray) -> dict[str, np.ndarray]:
    """Bilirubin, proteins, enzymes, AFP and the prothrombin activity with PT and INR (``variant``: the site's
    reagent and range variant)."""
    s, c, t = a.s, a.c, a.course.study_day.astype(float) - 1.0
    failing = a.dying(HEPATIC_FAILURE) + a.dying(MODS)
    values: dict[str, np.ndarray] = {}
    log_bili = np.log(12.0) + a.drive(0.33) * np.log(330.0 / 12.0) - 0.65 * a.effect
    log_bili += _eligible_effects(a, log_bili, 0.25, 0.12, lower=np.log(ENTRY_CRITERIA.bili_min + 0.05))
    # The failing liver: bilirubin climbs above every earlier value, to 250-800 umol/L at least.
    climbed = np.maximum(_running("max", log_bili, a.rows) + a.uniform(0.05, 0.3), np.log(a.uniform(250, 800)))
    log_bili = _toward(log_bili, np.maximum(log_bili, climbed), failing)
    values["BILI"] = _ceiling(np.exp(log_bili), BILI_CEILING)
    values["BILDIR"] = values["BILI"] * np.clip(0.35 + 0.35 * np.minimum(a.drive(0.33), 1.0) + a.noise(0.04), 0.2, 0.9)
    values["ALB"] = np.clip(42.0 - 11.5 * a.drive(0.9) + a.patient(2.5) + a.noise(1.5) + 2.5 * a.effect, 15, 55)
    values["PROT"] = np.clip(values["ALB"] + 25.0 + a.patient(3.0) + a.noise(2.0), 30, 95)
    # Transaminases peak at entry and fall quickly even in patients who do badly ("burnt out" liver).
    alt_drive = (s * np.exp(-t / 18.0) + 0.3 * s) / 1.3 + 0.15 * c
    values["ALT"] = np.exp(np.log(25.0) + alt_drive * np.log(10.0) + a.patient(0.7) + a.noise(0.25))
    # Cirrhosis raises AST over ALT (the AST/ALT ratio above 1 of advanced fibrosis).
    values["AST"] = values["ALT"] * np.exp(np.log(0.9) + 0.35 * c + a.patient(0.35) + a.noise(0.1))
    values["CHE"] = np.exp(np.log(7000.0) - a.drive(0.7) * np.log(7000.0 / 2600.0) + a.patient(0.3) + a.noise(0.1))
    # AFP marks regeneration: it peaks about three weeks in, highest in patients whose liver recovers.
    regen_capacity = np.clip(4.2 - 2.0 * (s - 0.6), 1.0, 5.0)
    bump = ((t + 10.0) / 30.0) * np.exp(1.0 - (t + 10.0) / 30.0)
    values["AFP"] = np.exp(np.log(4.0) + a.patient(0.9) + regen_capacity * bump + a.noise(0.2))

    pt_normal, isi = np.take(PT_NORMAL_SECONDS, variant), np.take(PT_ISI, variant)
    # Eligible at baseline: PTA <= 40% or INR >= 1.5, after rounding (hence the margins).
    inr_activity = (1.0 - PT_CALIBRATION_ALPHA) / ((ENTRY_CRITERIA.inr_min - 0.004) ** (1.0 / isi) - PT_CALIBRATION_ALPHA)
    eligible_activity = np.maximum(ENTRY_CRITERIA.pta_max / 100.0 + 0.004, inr_activity) - 0.001
    activity = 1.0 - 0.68 * a.drive(0.7)
    activity += _eligible_effects(a, activity, 0.05, 0.04, upper=eligible_activity)
    fallen = np.minimum(_running("min", activity, a.rows) - a.uniform(0.02, 0.06), a.uniform(0.10, 0.19))
    activity = np.clip(_toward(activity, np.minimum(activity, fallen), failing), 0.10, 1.3)
    values["PTA"] = activity * 100.0
    values["PT"] = pt_normal * (PT_CALIBRATION_ALPHA + (1.0 - PT_CALIBRATION_ALPHA) / activity)
    values["INR"] = (values["PT"] / pt_normal) ** isi
    return values


def _kidney_and_sodium(a: _Assessments) -> dict[str, np.ndarray]:
    s, c, aki = a.s, a.c, a.episodes["kidney"]
    lo, hi = np.array(AKI_FACTOR).T
    kidney_injury = np.log(lo[aki] + (hi[aki] - lo[aki]) * a.rng.random(len(aki)))
    log_creat = (np.log(68.0) + 0.15 * s + 0.1 * c + 1.2 * np.maximum(s - 1.05, 0.0) + a.patient(0.2) + a.noise(0.08)
                 - 0.12 * a.effect + kidney_injury + 0.3 * a.dying(SEPSIS))
    hepatorenal = np.clip(a.each(a.rng.lognormal(np.log(270.0), 0.3, a.n)), 180, 700)
    log_creat = _toward(log_creat, np.log(hepatorenal), a.dying(HEPATORENAL))
    organs_failing = np.clip(a.each(a.rng.lognormal(np.log(230.0), 0.25, a.n)), 180, 600)
    log_creat = _toward(log_creat, np.log(organs_failing), a.dying(MODS))
    dialysed = sum((a.dying(cause) >= 0.5) & (a.uniform(0, 1) < p) for cause, p in RRT_P.items())
    sodium = (142.0 - 5.0 * a.drive(0.4) - 8.0 * np.maximum(s - 1.05, 0.0) - 2.0 * a.course.decompensated[a.rows]
              + a.patient(3.0) + a.noise(2.0) - a.dying(HEPATORENAL) * a.uniform(4, 14)
              - (a.dying(HEPATIC_FAILURE) + a.dying(MODS)) * a.uniform(0, 8))
    return {"CREAT": np.exp(log_creat), "RRT": ((aki == 4) | (dialysed > 0)).astype(float), "SODIUM": sodium}


def _blood(a: _Assessments, female: np.ndarray) -> dict[str, np.ndarray]:
    s, c, bleeding = a.s, a.c, a.episodes["bleeding"]
    septic = a.dying(SEPSIS) + a.dying(MODS)
    hgb = (145.0 - 10.0 * s - 18.0 * c - 13.0 * female + a.patient(8.0) + a.noise(4.0)
           - np.take(BLEED_HGB_FALL, bleeding) - 5.0 * septic)
    # A fatal bleed takes 30-50% of the haemoglobin the patient had (before any recovery), to 85 g/L or less.
    before = np.minimum(hgb, a.each(_at_baseline(hgb, a)))
    bled = np.minimum(before * a.uniform(0.5, 0.7), a.uniform(55, 85))
    plat = np.exp(np.log(250.0) - 1.0 * c - 0.15 * s + a.patient(0.2) + a.noise(0.1)
                  + septic * np.log(a.uniform(0.35, 0.7)) + a.dying(BLEEDING) * np.log(0.8))
    # Sepsis raises white cells in most, lowers them in some.
    septic_wbc = np.where(a.uniform(0, 1) < 0.85, a.uniform(12.0, 28.0), a.uniform(1.5, 3.4))
    log_wbc = (np.log(5.5) + 0.35 * s - 0.35 * c + a.patient(0.25) + a.noise(0.15)
               + np.take(INFECTION_LOG_RISE["WBC"], a.episodes["infection"]) + 0.6 * a.dying(MODS))
    return {"HGB": _toward(hgb, bled, a.dying(BLEEDING)), "PLAT": plat,
            "WBC": np.exp(_toward(log_wbc, np.log(septic_wbc), a.dying(SEPSIS)))}


def _inflammation(a: _Assessments) -> dict[str, np.ndarray]:
    """CRP, procalcitonin and lactate."""
    s, infection, sepsis = a.s, a.episodes["infection"], a.episodes["sepsis"]
    log_crp = (np.log(3.0) + 1.6 * s + a.patient(0.5) + a.noise(0.35) + np.take(INFECTION_LOG_RISE["CRP"], infection)
               + 1.2 * a.dying(MODS))
    septic_crp = np.maximum(a.each(a.rng.lognormal(np.log(160.0), 0.35, a.n)), 60.0)
    log_crp = _toward(log_crp, np.log(septic_crp), a.dying(SEPSIS))
    log_pct = (np.log(0.1) + 1.4 * s + a.patient(0.5) + a.noise(0.3) + np.take(INFECTION_LOG_RISE["PCT"], infection)
               + 1.2 * (sepsis > 0) + 1.5 * a.dying(MODS))
    septic_pct = np.maximum(a.each(a.rng.lognormal(np.log(10.0), 0.6, a.n)), 2.5)
    log_pct = _toward(log_pct, np.log(septic_pct), a.dying(SEPSIS))
    log_lactate = (np.log(1.1) + 0.5 * s + a.patient(0.15) + a.noise(0.15) + 0.5 * (sepsis >= 3)
                   + 0.4 * (a.episodes["bleeding"] >= 3) + 0.5 * a.dying(HEPATIC_FAILURE))
    for cause, (low, high) in {SEPSIS: (2.8, 8.0), MODS: (3.5, 9.0), BLEEDING: (2.5, 6.0)}.items():
        log_lactate = _toward(log_lactate, np.log(a.uniform(low, high)), a.dying(cause))
    return {"CRP": np.maximum(_ceiling(np.exp(log_crp), CRP_CEILING), 0.2), "PCT": np.maximum(np.exp(log_pct), 0.02),
            "LACTATE": np.exp(log_lactate)}


def _circulation_and_lungs(a: _Assessments) -> dict[str, np.ndarray]:
    """Mean arterial pressure, vasopressors and SpO2/FiO2: shock in sepsis, multi-organ failure and bleeding,
    treated with vasopressors in most (the pressure on vasopressors is the supported one)."""
    s, c, sepsis, bleeding = a.s, a.c, a.episodes["sepsis"], a.episodes["bleeding"]
    pressor = sum((a.dying(cause) >= 0.5) & (a.uniform(0, 1) < p) for cause, p in VASOPRESSOR_P.items()) > 0
    pressor |= sepsis == 4
    shock = sum(a.dying(cause) for cause in VASOPRESSOR_P)
    map_ = 88.0 - 6.0 * s - 4.0 * c + a.patient(5.0) + a.noise(4.0) - 10.0 * (sepsis >= 3) - 12.0 * (bleeding >= 3)
    map_ = _toward(map_, np.where(pressor, a.uniform(60, 72), a.uniform(50, 64)), shock)
    map_ = _toward(map_, a.uniform(62, 75), a.dying(HEPATORENAL)) - 5.0 * a.dying(HEPATIC_FAILURE)
    lungs = np.take((1.0, 1.0, 1.0, 0.65, 0.45), a.episodes["pneumonia"]) * np.where(sepsis >= 3, 0.8, 1.0)
    spo2fio2 = np.minimum(470.0 - 12.0 * s + a.noise(10.0), 476.0) * lungs * (1.0 - 0.15 * a.dying(HEPATIC_FAILURE))
    spo2fio2 = _toward(spo2fio2, a.uniform(110, 260), a.dying(MODS))
    return {"MAP": np.where(sepsis == 4, np.minimum(map_, 70.0), map_), "VASOPRES": pressor.astype(float),
            "SPO2FIO2": _toward(spo2fio2, a.uniform(180, 340), a.dying(SEPSIS))}


def _encephalopathy(a: _Assessments) -> np.ndarray:
    """West Haven grade: a latent rounded to 0-4; about 18% have encephalopathy at entry (domain.md §3.1)."""
    he = -2.36 + 1.9 * a.s + 0.3 * a.c + a.patient(0.6) + a.noise(0.45)
    he = _toward(he, a.uniform(2.6, 4.4), a.dying(ENCEPHALOPATHY))
    he = _toward(he, he + a.uniform(0.5, 2.5), a.dying(HEPATIC_FAILURE))
    he = _toward(he, a.uniform(1.5, 4.4), a.dying(MODS))
    return np.maximum(np.clip(np.rint(he), 0, 4), a.episodes["encephalopathy"])


def _at_baseline(x: np.ndarray, a: _Assessments) -> np.ndarray:
    """Per patient, the value of ``x`` at the patient's baseline assessment."""
    out = np.full(a.n, np.nan)
    out[a.rows[a.baseline]] = x[a.baseline]
    return out


def _running(how: str, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per patient, the running ``how`` ("max" or "min") of ``x`` over the assessments so far."""
    return getattr(pd.Series(x).groupby(rows), f"cum{how}")().to_numpy()


def _toward(x: np.ndarray, target: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``x`` moved ``share`` (0..1) of the way to ``target``."""
    return x + share * (target - x)


def _ceiling(x: np.ndarray, ceiling: float, sharpness: float = 8.0) -> np.ndarray:
    """``x`` below ``ceiling`` unchanged (within 0.1% up to 0.8 x ceiling), approaching it smoothly above
    (a soft minimum on the log scale)."""
    return ceiling * np.exp(-np.log1p(np.exp(sharpness * (np.log(ceiling) - np.log(x)))) / sharpness)


def _eligible_effects(a: _Assessments, mean, sd_patient, sd_noise, *, lower=None, upper=None) -> np.ndarray:
    """Patient effect plus measurement noise for every assessment, drawn so that the baseline value
    (``mean`` + effect + noise) lies at or above ``lower`` / at or below ``upper`` (per assessment; read at
    the baseline rows). Screening keeps only eligible patients: the baseline sum is drawn from its normal
    distribution truncated at the bound (inverse CDF), and the patient effect from its conditional
    distribution given the sum, so later visits inherit the selected patient effect. numpy has no
    truncated normal; scipy.stats.truncnorm would do the sum but not the split."""
    sd = np.hypot(sd_patient, sd_noise)
    bound = np.broadcast_to(lower if lower is not None else upper, mean.shape)
    z = (_at_baseline(bound, a) - _at_baseline(mean, a)) / sd
    u = a.rng.random(a.n)
    u = ndtr(z) + (1.0 - ndtr(z)) * u if lower is not None else ndtr(z) * u
    total = sd * ndtri(np.clip(u, 1e-12, 1.0 - 1e-12))
    share = sd_patient ** 2 / sd ** 2
    effect = share * total + a.rng.normal(0.0, np.sqrt(share) * sd_noise, a.n)
    out = a.each(effect) + a.noise(sd_noise)
    out[a.baseline] = total[a.rows[a.baseline]]
    return out


def lab_limits(code: str, site_of_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference range of ``code`` for each row (the range variant of the row's site)."""
    p, m, variant = BY_CODE[code], len(site_of_row), site_of_row % 2
    if code in RANGE_VARIANTS:
        pair = RANGE_VARIANTS[code]
        return np.take([pair[0][0], pair[1][0]], variant), np.take([pair[0][1], pair[1][1]], variant)
    nan = np.full(m, np.nan)
    lo = nan if p.lower_limit is None else np.full(m, p.lower_limit)
    hi = nan if p.upper_limit is None else np.full(m, p.upper_limit)
    return lo, hi


def lab_table(values: dict[str, np.ndarray], course: Course, usubjid: np.ndarray, site: np.ndarray,
              day1: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """The ``lab_results`` rows (one per parameter x assessment) of the assessments where ``keep``, built
    column-wise: 100,000 patients give about 20 M rows."""
    rows, visit_idx, study_day = course.row[keep], course.visit_idx[keep], course.study_day[keep]
    codes = sorted(values)
    k, m = len(codes), len(rows)
    labels = np.array([v.visit for v in VISITS] + [UNSCHEDULED_VISIT], dtype=object)
    numbers = np.array([v.visit_num for v in VISITS] + [0])
    visit_num = pd.arrays.IntegerArray(np.tile(numbers[visit_idx], k).astype("int32"), np.tile(visit_idx == UNSCHEDULED, k))
    limits = [lab_limits(code, site[rows]) for code in codes]
    collected = day1[rows] + (study_day - 1).astype("timedelta64[D]")
    return pd.DataFrame({
        "usubjid": np.tile(usubjid[rows], k),
        "paramcd": np.repeat(np.array(codes, dtype=object), m),
        "param": np.repeat(np.array([BY_CODE[c].name for c in codes], dtype=object), m),
        "unit": np.repeat(np.array([BY_CODE[c].unit for c in codes], dtype=object), m),
        "visit": np.tile(labels[visit_idx], k),
        "visit_num": visit_num,
        "study_day": np.tile(study_day, k),
        "collected_on": np.tile(collected, k),
        "value": np.concatenate([values[c][keep] for c in codes]),
        "lower_limit": np.concatenate([lo for lo, _ in limits]),
        "upper_limit": np.concatenate([hi for _, hi in limits]),
    }, copy=False)


def ascites_from_course(rng, course: Course, usubjid) -> pd.DataFrame:
    """ICA grade, deepest-pocket depth (cm) and estimated volume (mL) at every scheduled visit.

    Depth bands follow Chinese ultrasound practice (small < 3 cm, moderate 3-10 cm, large > 10 cm; domain.md
    §7). Volume grows faster than depth (the fluid fills the abdomen in three dimensions): 100 x depth^1.5 mL,
    so small ascites holds up to about 0.5 L, moderate 0.5-3 L and large (tense, ICA grade 3) 3-9 L, the
    volumes a large-volume paracentesis removes (over 5 L, EASL clinical practice guidelines on decompensated
    cirrhosis, J Hepatol 2018;69:406). [E] Ultrasound volume estimates are not standardised (domain.md §7);
    the exponent is chosen to meet these anchors.
    """
    keep = course.visit_idx != UNSCHEDULED
    rows, s, c = course.row[keep], course.severity[keep], course.chronic[course.row[keep]]
    m = len(rows)
    drive = 0.5 * c + (1.0 - 0.5 * c) * s
    dying = np.where(course.signature[keep] > 0, course.signature[keep], 0.0)
    cause = course.cause[rows]
    latent = (rng.normal(0.0, 0.6, len(usubjid))[rows] + 2.6 * (drive - 0.62) + 1.2 * course.decompensated[rows]
              + rng.normal(0.0, 0.35, m) + dying * np.select([cause == HEPATORENAL, np.isin(cause, (HEPATIC_FAILURE, MODS))],
                                                             [1.5, 0.8], 0.0))
    grade = np.digitize(latent, [0.6, 1.5, 2.4])
    u = rng.random(m)
    depth = np.select([grade == 1, grade == 2, grade == 3], [0.5 + 2.4 * u, 3.0 + 7.0 * u, 10.0 + 10.0 * u ** 1.5], 0.0)
    volume = np.where(grade > 0, np.round(100.0 * depth ** 1.5 * rng.lognormal(0.0, 0.1, m), -1), 0.0)
    visit_idx = course.visit_idx[keep]
    return pd.DataFrame({
        "row": rows,
        "usubjid": usubjid[rows],
        "visit": np.array([v.visit for v in VISITS])[visit_idx],
        "visit_num": np.array([v.visit_num for v in VISITS])[visit_idx],
        "study_day": course.study_day[keep],
        "grade": grade,
        "depth_cm": np.round(depth, 1),
        "volume_ml": volume,
    })
