"""The one registry of lab and derived parameters: code, name, unit, reference range, worse direction
and the range of physiologically possible values.

Units are the Chinese SI units used at the trial site (domain.md §3.2); the reference range here is
the default a simulated lab reports; imported records keep their own per-record ranges. The possible
range is what an import accepts (docs/importing.md): a value outside it is a unit or entry error, not a
patient (negative bilirubin, INR 0, albumin 310 g/L from g/L labelled g/dL), and is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Plausible:
    """Values a living patient can have, in the registry unit; wide on purpose (acute liver failure,
    hepatoblastoma AFP), so only impossible values fall outside. ``low_open``: ``low`` itself is impossible."""

    low: float
    high: float
    low_open: bool = False

    def contains(self, value):
        """True where ``value`` (a number or a pandas Series) is possible; missing values are not."""
        above = value > self.low if self.low_open else value >= self.low
        return above & (value <= self.high)

    def describe(self, unit: str) -> str:
        low = f"above {self.low:.10g}" if self.low_open else f"from {self.low:.10g}"
        return f"{low} {'and at most' if self.low_open else 'to'} {self.high:.10g} {unit}"


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
    # Physiologically possible values (see Plausible); None for derived scores, which are computed.
    plausible: Plausible | None = None


LAB_PARAMETERS: tuple[LabParameter, ...] = (
    LabParameter("PROT", "Total protein", "g/L", 60.0, 80.0, "low", plausible=Plausible(0, 200, low_open=True)),
    LabParameter("ALB", "Albumin", "g/L", 35.0, 55.0, "low", plausible=Plausible(0, 100, low_open=True)),
    LabParameter("BILI", "Total bilirubin", "umol/L", 3.4, 17.1, "high", log_scale=True,
                 plausible=Plausible(0, 1500)),
    LabParameter("BILDIR", "Direct bilirubin", "umol/L", 0.0, 6.8, "high", log_scale=True,
                 plausible=Plausible(0, 1500)),
    LabParameter("ALT", "Alanine aminotransferase", "U/L", 0.0, 40.0, "high", log_scale=True,
                 plausible=Plausible(0, 50_000)),
    LabParameter("AST", "Aspartate aminotransferase", "U/L", 0.0, 40.0, "high", log_scale=True,
                 plausible=Plausible(0, 50_000)),
    LabParameter("CHE", "Cholinesterase", "U/L", 5000.0, 12000.0, "low", decimals=0,
                 plausible=Plausible(0, 30_000)),
    LabParameter("AFP", "Alpha-fetoprotein", "ug/L", 0.0, 20.0, "high", log_scale=True,
                 plausible=Plausible(0, 10_000_000)),
    LabParameter("PT", "Prothrombin time", "s", 11.0, 14.0, "high", plausible=Plausible(0, 300, low_open=True)),
    LabParameter("PTA", "Prothrombin activity", "%", 75.0, 100.0, "low", decimals=0,
                 plausible=Plausible(0, 200)),
    LabParameter("INR", "International normalised ratio", "ratio", 0.8, 1.2, "high", decimals=2,
                 plausible=Plausible(0, 20, low_open=True)),
    LabParameter("CREAT", "Creatinine", "umol/L", 44.0, 133.0, "high", decimals=0,
                 plausible=Plausible(0, 3000, low_open=True)),
    LabParameter("SODIUM", "Sodium", "mmol/L", 135.0, 145.0, "low", decimals=0,
                 plausible=Plausible(80, 250)),
    LabParameter("WBC", "White blood cells", "10^9/L", 3.5, 9.5, "high", decimals=2, plausible=Plausible(0, 500)),
    LabParameter("PLAT", "Platelets", "10^9/L", 125.0, 350.0, "low", decimals=0, plausible=Plausible(0, 3000)),
    LabParameter("HGB", "Haemoglobin", "g/L", 130.0, 175.0, "low", decimals=0,
                 plausible=Plausible(0, 250, low_open=True)),
    LabParameter("CRP", "C-reactive protein", "mg/L", 0.0, 10.0, "high", log_scale=True,
                 plausible=Plausible(0, 1000)),
    LabParameter("PCT", "Procalcitonin", "ug/L", 0.0, 0.5, "high", log_scale=True, decimals=2,
                 plausible=Plausible(0, 1000)),
    LabParameter("LACTATE", "Lactate", "mmol/L", 0.5, 2.2, "high", plausible=Plausible(0, 40)),
    # Clinical assessments stored as lab_results rows (one per patient and visit, as ADaM BDS): the West Haven
    # grade (0 none .. 4 coma), whether vasopressors or renal replacement run (1) or not (0) that day, the mean
    # arterial pressure and the SpO2/FiO2 ratio (at most 100 / 0.21 = 476 on room air; above 357 is normal
    # for the CLIF consortium's respiratory failure criterion).
    LabParameter("HEGRADE", "Hepatic encephalopathy (West Haven grade)", "grade", 0.0, 0.0, "high", decimals=0,
                 plausible=Plausible(0, 4)),
    LabParameter("MAP", "Mean arterial pressure", "mmHg", 70.0, 105.0, "low", decimals=0,
                 plausible=Plausible(0, 250, low_open=True)),
    LabParameter("VASOPRES", "Vasopressor therapy", "yes=1", 0.0, 0.0, "high", decimals=0, plausible=Plausible(0, 1)),
    LabParameter("SPO2FIO2", "SpO2/FiO2 ratio", "ratio", 357.0, 476.0, "low", decimals=0,
                 plausible=Plausible(0, 477, low_open=True)),
    LabParameter("RRT", "Renal replacement therapy", "yes=1", 0.0, 0.0, "high", decimals=0, plausible=Plausible(0, 1)),
    LabParameter("MELD", "MELD (UNOS)", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("MELDNA", "MELD-Na (OPTN 2016)", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("MELD3", "MELD 3.0", "points", None, None, "high", derived=True, decimals=0),
    # Liver-failure grading at every visit (domain.liver_scores; derived in data.derived_parameters).
    LabParameter("CPSCORE", "Child-Pugh score", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("CPCLASS", "Child-Pugh class (1=A, 2=B, 3=C)", "class", None, None, "high", derived=True, decimals=0),
    LabParameter("CLIFOF", "CLIF-C organ failure score", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("NOF", "Organ failures (EASL-CLIF)", "organs", None, None, "high", derived=True, decimals=0),
    LabParameter("ACLFGR", "ACLF grade (EASL-CLIF)", "grade", None, None, "high", derived=True, decimals=0),
    LabParameter("CLIFCACLF", "CLIF-C ACLF score", "points", None, None, "high", derived=True, decimals=1),
    LabParameter("AARC", "AARC score (APASL)", "points", None, None, "high", derived=True, decimals=0),
    LabParameter("AARCGR", "AARC grade (APASL)", "grade", None, None, "high", derived=True, decimals=0),
    LabParameter("AKISTAGE", "AKI stage (ICA)", "stage", None, None, "high", derived=True, decimals=0),
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


def plausible(paramcd: str) -> Plausible | None:
    """The possible range of a registry lab; None for derived scores and codes outside the registry."""
    return BY_CODE[paramcd].plausible if paramcd in BY_CODE else None


def lab(paramcd: str) -> LabParameter:
    """Return the registry entry for ``paramcd``; unknown codes raise ``KeyError`` listing the known ones."""
    try:
        return BY_CODE[paramcd]
    except KeyError:
        raise KeyError(f"Unknown lab parameter {paramcd!r}; known: {', '.join(BY_CODE)}") from None
