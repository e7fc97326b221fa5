"""CTCAE v5.0 laboratory toxicity grades in both directions (ADaM ATOXGRL / ATOXGRH).

Source: NCI Common Terminology Criteria for Adverse Events (CTCAE) v5.0, 27 November 2017, SOCs
"Blood and lymphatic system disorders", "Investigations" and "Metabolism and nutrition disorders".
Each function grades one CTCAE term from the registry unit of its lab (domain.labs): g/L, mmol/L,
10^9/L, umol/L, U/L, ratio.

**Laboratory part only.** Criteria that need the patient's clinical state ("symptomatic",
"transfusion indicated", "hospitalization indicated", "life-threatening consequences") cannot be read
from a lab value, so a value gets the highest grade its number alone establishes, as ADaM lab toxicity
grading does (pharmaverse admiral, ``atoxgr_criteria_ctcv5``). Two terms where admiral assumes the
worst clinical case are graded from the number here, because a DSMB must not read a clinical judgement
into a lab: hyponatraemia 125-129 mmol/L is grade 2 ("asymptomatic"; admiral: 3), and INR is graded by
its absolute limits (the "x baseline if on anticoagulation" rule is for anticoagulated patients; in
liver failure the INR rises from the failing liver, and admiral applies it to everyone).

**Baseline.** For bilirubin and ALT/AST, v5 grades against the baseline instead of the ULN when the
baseline was abnormal (above the ULN); a missing baseline counts as normal (admiral: BNRIND not HIGH).
Creatinine takes the worse of its ULN and baseline criteria.

**Missing.** A grade is NaN where CTCAE cannot grade: missing value, or a missing limit the grade needs.
A value that meets an absolute grade 2-4 criterion is graded even without its LLN/ULN, as in admiral.

Grades are floats 0-4 (NaN = not gradable). Hand-written because CTCAE grading exists for R (admiral)
and SAS, not in a Python library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dashboard.domain.cutoffs import above, at_least, below

ArrayLike = npt.ArrayLike


def _f(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _below_normal_then_absolute(value: ArrayLike, lln: ArrayLike, cuts: tuple[float | None, ...]) -> np.ndarray:
    """Grade 1 below the LLN; grade 2, 3, 4 below each absolute cut-off of ``cuts`` (None: no such grade)."""
    v, lo = _f(value), _f(lln)
    grade = np.where(np.isnan(lo), np.nan, np.where(below(v, lo), 1.0, 0.0))
    for g, cut in enumerate(cuts, start=2):
        if cut is not None:
            grade = np.where(below(v, cut), float(g), grade)
    return np.where(np.isnan(v), np.nan, grade)


def hypoalbuminaemia(value: ArrayLike, lln: ArrayLike) -> np.ndarray:
    """Hypoalbuminemia, albumin g/L: 1 <LLN-30; 2 <30-20; 3 <20 (4: clinical only)."""
    return _below_normal_then_absolute(value, lln, (30.0, 20.0, None))


def hyponatraemia(value: ArrayLike, lln: ArrayLike) -> np.ndarray:
    """Hyponatremia, sodium mmol/L: 1 <LLN-130; 2 125-129 (asymptomatic); 3 120-124; 4 <120."""
    return _below_normal_then_absolute(value, lln, (130.0, 125.0, 120.0))


def platelet_count_decreased(value: ArrayLike, lln: ArrayLike) -> np.ndarray:
    """Platelet count decreased, 10^9/L: 1 <LLN-75; 2 <75-50; 3 <50-25; 4 <25."""
    return _below_normal_then_absolute(value, lln, (75.0, 50.0, 25.0))


def anaemia(value: ArrayLike, lln: ArrayLike) -> np.ndarray:
    """Anemia, haemoglobin g/L: 1 <LLN-100; 2 <100-80; 3 <80 ("transfusion indicated" and 4: clinical)."""
    return _below_normal_then_absolute(value, lln, (100.0, 80.0, None))


def wbc_decreased(value: ArrayLike, lln: ArrayLike) -> np.ndarray:
    """White blood cell decreased, 10^9/L: 1 <LLN-3.0; 2 <3.0-2.0; 3 <2.0-1.0; 4 <1.0."""
    return _below_normal_then_absolute(value, lln, (3.0, 2.0, 1.0))


def hypernatraemia(value: ArrayLike, uln: ArrayLike) -> np.ndarray:
    """Hypernatremia, sodium mmol/L: 1 >ULN-150; 2 >150-155; 3 >155-160; 4 >160."""
    v, hi = _f(value), _f(uln)
    grade = np.where(np.isnan(hi), np.nan, np.where(above(v, hi), 1.0, 0.0))
    for g, cut in ((2, 150.0), (3, 155.0), (4, 160.0)):
        grade = np.where(above(v, cut), float(g), grade)
    return np.where(np.isnan(v), np.nan, grade)


def inr_increased(value: ArrayLike) -> np.ndarray:
    """INR increased (not anticoagulated): 1 >1.2-1.5; 2 >1.5-2.5; 3 >2.5; no grade 4."""
    v = _f(value)
    grade = np.select([above(v, 2.5), above(v, 1.5), above(v, 1.2)], [3.0, 2.0, 1.0], 0.0)
    return np.where(np.isnan(v), np.nan, grade)


def _multiples_of_reference(value: ArrayLike, uln: ArrayLike, baseline: ArrayLike,
                            normal: tuple[float, float, float, float],
                            abnormal: tuple[float, float, float, float], abnormal_grade1_inclusive: bool) -> np.ndarray:
    """Grades 1-4 above multiples of the ULN (baseline normal or missing) or of the baseline (abnormal)."""
    v, hi, base = _f(value), _f(uln), _f(baseline)
    abnormal_base = above(base, hi)
    ref = np.where(abnormal_base, base, hi)
    factors = np.where(abnormal_base[..., None], abnormal, normal)
    grade = np.zeros(np.broadcast(v, ref).shape)
    for g in range(4):
        limit = factors[..., g] * ref
        met = above(v, limit)
        if g == 0 and abnormal_grade1_inclusive:
            met = np.where(abnormal_base, at_least(v, limit), met)
        grade = np.where(met, float(g + 1), grade)
    return np.where(np.isnan(v) | np.isnan(hi), np.nan, grade)


def bilirubin_increased(value: ArrayLike, uln: ArrayLike, baseline: ArrayLike) -> np.ndarray:
    """Blood bilirubin increased: 1 >ULN-1.5xULN; 2 >1.5-3.0xULN; 3 >3.0-10.0xULN; 4 >10.0xULN if the
    baseline was normal; if abnormal, the same multiples of the baseline (grade 1 >1.0-1.5x baseline)."""
    return _multiples_of_reference(value, uln, baseline, (1.0, 1.5, 3.0, 10.0), (1.0, 1.5, 3.0, 10.0), False)


def aminotransferase_increased(value: ArrayLike, uln: ArrayLike, baseline: ArrayLike) -> np.ndarray:
    """ALT / AST increased: 1 >ULN-3.0xULN; 2 >3.0-5.0xULN; 3 >5.0-20.0xULN; 4 >20.0xULN if the baseline
    was normal; if abnormal, 1 is 1.5-3.0x baseline (1.5 included), then >3.0, >5.0, >20.0x baseline."""
    return _multiples_of_reference(value, uln, baseline, (1.0, 3.0, 5.0, 20.0), (1.5, 3.0, 5.0, 20.0), True)


def creatinine_increased(value: ArrayLike, uln: ArrayLike, baseline: ArrayLike) -> np.ndarray:
    """Creatinine increased: 1 >ULN-1.5xULN; 2 >1.5-3.0x baseline or >1.5-3.0xULN; 3 >3.0x baseline or
    >3.0-6.0xULN; 4 >6.0xULN. The baseline criteria apply where a baseline exists; grade 0 and 1 need the ULN."""
    v, hi, base = _f(value), _f(uln), _f(baseline)
    grade = np.where(np.isnan(hi), np.nan, np.where(above(v, hi), 1.0, 0.0))
    for g, factor in ((2, 1.5), (3, 3.0)):
        grade = np.where(above(v, factor * hi) | above(v, factor * base), float(g), grade)
    grade = np.where(above(v, 6.0 * hi), 4.0, grade)
    return np.where(np.isnan(v), np.nan, grade)


@dataclass(frozen=True)
class Criterion:
    """One CTCAE term graded from one lab: ``function(value, *limits)`` with ``limits`` named from
    ``lln``, ``uln``, ``baseline`` in the order the function takes them."""

    paramcd: str
    term: str
    function: Callable[..., np.ndarray]
    limits: tuple[str, ...]

    def grade(self, value: ArrayLike, *, lln: ArrayLike, uln: ArrayLike, baseline: ArrayLike) -> np.ndarray:
        given = {"lln": lln, "uln": uln, "baseline": baseline}
        return self.function(value, *(given[name] for name in self.limits))

    @property
    def needs_baseline(self) -> bool:
        return "baseline" in self.limits


# ATOXGRL: low values; ATOXGRH: high values. A lab in neither has no CTCAE grade in that direction.
LOW: dict[str, Criterion] = {c.paramcd: c for c in (
    Criterion("ALB", "Hypoalbuminemia", hypoalbuminaemia, ("lln",)),
    Criterion("SODIUM", "Hyponatremia", hyponatraemia, ("lln",)),
    Criterion("PLAT", "Platelet count decreased", platelet_count_decreased, ("lln",)),
    Criterion("HGB", "Anemia", anaemia, ("lln",)),
    Criterion("WBC", "White blood cell decreased", wbc_decreased, ("lln",)),
)}
HIGH: dict[str, Criterion] = {c.paramcd: c for c in (
    Criterion("BILI", "Blood bilirubin increased", bilirubin_increased, ("uln", "baseline")),
    Criterion("ALT", "Alanine aminotransferase increased", aminotransferase_increased, ("uln", "baseline")),
    Criterion("AST", "Aspartate aminotransferase increased", aminotransferase_increased, ("uln", "baseline")),
    Criterion("INR", "INR increased", inr_increased, ()),
    Criterion("CREAT", "Creatinine increased", creatinine_increased, ("uln", "baseline")),
    Criterion("SODIUM", "Hypernatremia", hypernatraemia, ("uln",)),
)}
