"""The one registry of lab and derived parameters: code, name, unit, reference range, worse direction.

Units are the Chinese SI units used at the trial site (domain.md §3.2); the reference range here is
the default a simulated lab reports; imported records keep their own per-record ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class LabParameter:
    paramcd: str
    name: str
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    worse: Literal["high", "low"]
    log_scale: bool = False
    derived: bool = False
    # For the shift table: labs whose danger is a low value are categorised against the lower limit.
    decimals: int = 1


LAB_PARAMETERS: tuple[LabParameter, ...] = (
    LabParameter("PROT", "Total protein", "g/L", 60.0, 80.0, "low"),
    LabParameter("ALB", "Albumin", "g/L", 35.0, 55.0, "low"),
    LabParameter("BILI", "Total bilirubin", "umol/L", 3.4, 17.1, "high", log_scale=True),
    LabParameter("BILDIR", "Direct bilirubin", "umol/L", 0.0, 6.8, "high", log_scale=True),
    LabParameter("ALT", "Alanine aminotransferase", "U/L", 0.0, 40.0, "high", log_scale=True),
    LabParameter("AST", "Aspartate aminotransferase", "U/L", 0.0, 40.0, "high", log_scale=True),
    LabParameter("CHE", "Cholinesterase", "U/L", 5000.0, 12000.0, "low", decimals=0),
    LabParameter("AFP", "Alpha-fetoprotein", "ug/L", 0.0, 20.0, "high", log_scale=True),
    LabParameter("PT", "Prothrombin time", "s", 11.0, 14.0, "high"),
    LabParameter("PTA", "Prothrombin activity", "%", 75.0, 100.0, "low", decimals=0),
    LabParameter("INR", "International normalised ratio", "ratio", 0.8, 1.2, "high", decimals=2),
    LabParameter("CREAT", "Creatinine", "umol/L", 44.0, 133.0, "high", decimals=0),
    LabParameter("SODIUM", "Sodium", "mmol/L", 135.0, 145.0, "low", decimals=0),
    LabParameter("MELD", "MELD (UNOS)", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("MELDNA", "MELD-Na (OPTN 2016)", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("MELD3", "MELD 3.0", "points", None, None, "high", derived=True, decimals=0),
)

BY_CODE: dict[str, LabParameter] = {p.paramcd: p for p in LAB_PARAMETERS}
MEASURED_CODES: tuple[str, ...] = tuple(p.paramcd for p in LAB_PARAMETERS if not p.derived)
DERIVED_CODES: tuple[str, ...] = tuple(p.paramcd for p in LAB_PARAMETERS if p.derived)


def describe(paramcd: str, name: str | None = None, unit: str | None = None) -> LabParameter:
    """The registry entry, or for a code only an imported cut carries (any CDISC LBTESTCD) a generic
    entry: its own name and unit, no default range (records carry theirs), high values worse."""
    if paramcd in BY_CODE:
        return BY_CODE[paramcd]
    return LabParameter(paramcd, name or paramcd, unit or "", None, None, "high")


def lab(paramcd: str) -> LabParameter:
    """Return the registry entry for ``paramcd``; unknown codes raise ``KeyError`` listing the known ones."""
    try:
        return BY_CODE[paramcd]
    except KeyError:
        raise KeyError(f"Unknown lab parameter {paramcd!r}; known: {', '.join(BY_CODE)}") from None
