"""Data layer: unit spelling and conversion to the lab registry's SI units (domain.md §3.2, §8.1).

A registry lab (BILI, ALB, CREAT...) is converted to the registry unit; any other test keeps its own
unit in canonical spelling. A unit the tables here (or the mapping file's ``[[units]]``) do not know
is a validation problem, never a silent pass-through: a wrong unit moves every value on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.labs import BY_CODE

# Case-insensitive spellings -> canonical spelling (SDTM CT submission values where one exists).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "umol/L": ("umol/l", "µmol/l", "μmol/l", "micromol/l"), "mmol/L": ("mmol/l",), "nmol/L": ("nmol/l",),
    "pmol/L": ("pmol/l",), "mEq/L": ("meq/l",), "g/L": ("g/l",), "g/dL": ("g/dl",), "mg/dL": ("mg/dl",),
    "mg/L": ("mg/l",), "ug/L": ("ug/l", "µg/l", "μg/l", "mcg/l"), "ng/mL": ("ng/ml",), "pg/mL": ("pg/ml",),
    "U/L": ("u/l", "iu/l"), "kU/L": ("ku/l", "kiu/l"), "mU/L": ("mu/l", "miu/l"), "ukat/L": ("ukat/l", "µkat/l"),
    "IU/mL": ("iu/ml",), "mIU/mL": ("miu/ml",), "uIU/mL": ("uiu/ml", "µiu/ml"), "%": ("%", "percent"),
    "s": ("s", "sec", "secs", "second", "seconds"), "ratio": ("ratio",), "1": ("1",),
    "10^9/L": ("10^9/l", "gi/l", "x10^9/l", "10e9/l", "10*9/l"), "10^12/L": ("10^12/l", "ti/l", "x10^12/l", "10e12/l"),
    "10^3/uL": ("10^3/ul", "x10^3/ul", "10*3/ul", "k/ul", "10^3/mm3"),
    "fL": ("fl",), "pg": ("pg",), "fmol(Fe)": ("fmol(fe)",), "mm/h": ("mm/h", "mm/hr"), "g": ("g",), "mg": ("mg",),
    "mL": ("ml",), "L": ("l",), "mL/min": ("ml/min",), "mL/min/1.73m2": ("ml/min/1.73m2", "ml/min/1.73 m2"),
    "C": ("c", "°c", "degc", "celsius"), "F": ("f", "°f", "degf", "fahrenheit"), "kg": ("kg",), "LB": ("lb", "lbs"),
    "cm": ("cm",), "in": ("in", "inch"), "mmHg": ("mmhg", "mm[hg]"), "beats/min": ("beats/min", "bpm", "/min"),
    "breaths/min": ("breaths/min",), "kg/m2": ("kg/m2", "kg/m^2"), "points": ("points",), "cells/uL": ("cells/ul",),
    # Bedside assessments stored with the labs (domain.labs): West Haven grade, 0/1 therapy flags; and the units of
    # the derived grades, which a delivery exported from this product carries (they are derived again on import).
    "grade": ("grade",), "yes=1": ("yes=1",), "class": ("class",), "organs": ("organs",), "stage": ("stage",),
}
SPELLING = {alias: canon for canon, aliases in _SYNONYMS.items() for alias in (*aliases, canon.lower())}

# (from, to) -> (factor, offset): value_to = value_from * factor + offset.
_GENERIC: dict[tuple[str, str], tuple[float, float]] = {
    ("ng/mL", "ug/L"): (1.0, 0.0), ("mEq/L", "mmol/L"): (1.0, 0.0), ("kU/L", "U/L"): (1000.0, 0.0),
    ("ukat/L", "U/L"): (60.0, 0.0), ("g/dL", "g/L"): (10.0, 0.0), ("1", "ratio"): (1.0, 0.0),
    ("", "ratio"): (1.0, 0.0), ("F", "C"): (5 / 9, -32 * 5 / 9), ("LB", "kg"): (0.45359237, 0.0),
    ("in", "cm"): (2.54, 0.0), ("mg/dL", "mg/L"): (10.0, 0.0), ("10^3/uL", "10^9/L"): (1.0, 0.0),
    ("", "grade"): (1.0, 0.0), ("", "yes=1"): (1.0, 0.0), ("", "class"): (1.0, 0.0), ("", "organs"): (1.0, 0.0),
    ("", "stage"): (1.0, 0.0),
}
# Conversions that depend on the analyte (molar mass): bilirubin 17.1, creatinine 88.4 (DESIGN §5).
_BY_ANALYTE: dict[str, dict[str, float]] = {
    "BILI": {"mg/dL": 17.1}, "BILDIR": {"mg/dL": 17.1}, "CREAT": {"mg/dL": 88.4},
    "AFP": {"IU/mL": 1.21},  # 1 IU/mL AFP = 1.21 ng/mL (WHO 72/225)
    "HGB": {"mmol/L": 16.114},  # haemoglobin monomer (Fe), 16,114 g/mol: 1 mmol/L = 16.114 g/L
    "LACTATE": {"mg/dL": 0.111},  # lactate 90.08 g/mol: 1 mg/dL = 0.111 mmol/L
}
# Vital signs are stored in these units (the simulator's TEMP is C).
VITAL_UNITS = {"TEMP": "C", "WEIGHT": "kg", "HEIGHT": "cm"}


@dataclass(frozen=True)
class UnitRule:
    """A mapping-file ``[[units]]`` entry: ``from`` -> ``to`` (x factor + offset), optionally for one paramcd."""

    source: str
    target: str
    factor: float = 1.0
    offset: float = 0.0
    paramcd: str | None = None


def spell(unit: object) -> str | None:
    """Canonical spelling of ``unit``; '' for blank; None when unknown."""
    if unit is None or (isinstance(unit, float) and np.isnan(unit)):
        return ""
    u = str(unit).strip()
    return "" if not u else SPELLING.get(u.lower())


def conversion(paramcd: str, unit: object, rules: tuple[UnitRule, ...] = (),
               targets: dict[str, str] | None = None) -> tuple[str, float, float] | None:
    """(stored unit, factor, offset) for a value of ``paramcd`` in ``unit``, or None if not convertible."""
    raw = "" if unit is None or (isinstance(unit, float) and np.isnan(unit)) else str(unit).strip()
    for r in rules:  # mapping-file rules first: they know the site's own spellings
        if r.source.lower() == raw.lower() and r.paramcd in (None, paramcd):
            raw, factor, offset = r.target, r.factor, r.offset
            break
    else:
        factor, offset = 1.0, 0.0
    canon = spell(raw)
    if canon is None:
        canon = next((r.target for r in rules if r.target.lower() == raw.lower()), None)
        if canon is None:
            return None
    targets = targets if targets is not None else {code: p.unit for code, p in BY_CODE.items()}
    target = targets.get(paramcd)
    if target is None:
        return canon, factor, offset
    if canon == target:
        return target, factor, offset
    if canon in _BY_ANALYTE.get(paramcd, {}):
        return target, factor * _BY_ANALYTE[paramcd][canon], offset
    if (canon, target) in _GENERIC:
        f, o = _GENERIC[(canon, target)]
        return target, factor * f, offset * f + o
    return None


def convert(paramcd: pd.Series, unit: pd.Series, rules: tuple[UnitRule, ...] = (),
            targets: dict[str, str] | None = None) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Vectorised :func:`conversion`: (unit, factor, offset, bad) aligned with the inputs."""
    key = pd.DataFrame({"p": paramcd.astype(object), "u": unit.astype(object).where(unit.notna(), "")})
    pairs = {(p, u): conversion(p, u, rules, targets) for p, u in key.drop_duplicates().itertuples(index=False)}
    found = [pairs[(p, u)] for p, u in key.itertuples(index=False)]
    bad = pd.Series([f is None for f in found], index=unit.index)
    unit_out = pd.Series([f[0] if f else None for f in found], index=unit.index, dtype=object)
    factor = pd.Series([f[1] if f else np.nan for f in found], index=unit.index)
    offset = pd.Series([f[2] if f else np.nan for f in found], index=unit.index)
    return unit_out, factor, offset, bad


def expected_units(paramcd: str, targets: dict[str, str] | None = None) -> str:
    """Text for a problem message: which units are accepted for ``paramcd``."""
    targets = targets if targets is not None else {code: p.unit for code, p in BY_CODE.items()}
    target = targets.get(paramcd)
    if target is None:
        return "a known unit (e.g. g/L, umol/L, mmol/L, U/L, 10^9/L) or a [[units]] rule in the mapping file"
    more = sorted({src for (src, dst) in _GENERIC if dst == target and src} | set(_BY_ANALYTE.get(paramcd, {})))
    return f"{target}{' or ' + ', '.join(more) if more else ''} for {paramcd}, or a [[units]] rule in the mapping file"
