"""Data layer: the optional TOML mapping file for deliveries that are not plain CDISC (docs/importing.md).

It names non-standard lab codes, extra unit conversions, which file holds which domain, extra
disposition terms, extra subject columns and where ascites assessments live. Unknown keys are an
error, so a typo never silently changes an import.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.data.importers.units import UnitRule
from dashboard.data.schema import SUBJECT_STATUSES

# SDTM controlled-terminology test codes (LBTESTCD) that name a registry lab by another code; the mapping
# file's [lab_codes] overrides them. WBC, PLAT, HGB and CRP are the same in both.
STANDARD_LAB_CODES = {"LACTICAC": "LACTATE", "PROCALCT": "PCT"}
SECTIONS = {"study", "files", "lab_codes", "units", "disposition", "subjects", "ascites"}
STUDY_KEYS = {"study_id", "title", "planned_n", "follow_up_days"}
SUBJECT_KEYS = {"etiology", "lf_type", "randomized_on", "weight_kg"}
ASCITES_KEYS = {"file", "grade", "depth_cm", "volume_ml"}


@dataclass(frozen=True)
class Mapping:
    study: dict = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    lab_codes: dict[str, str] = field(default_factory=dict)
    units: tuple[UnitRule, ...] = ()
    disposition: dict[str, str] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)
    ascites: dict[str, str] = field(default_factory=dict)

    def file(self, domain: str) -> str:
        """The file stem that holds ``domain`` (default: the domain name itself)."""
        return self.files.get(domain.lower(), domain.lower()).lower()

    def paramcd(self, code: str | None) -> str | None:
        return None if code is None else self.lab_codes.get(code, STANDARD_LAB_CODES.get(code, code))


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and check a mapping file; ``None`` gives the empty mapping (plain CDISC)."""
    if path is None:
        return Mapping()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"No mapping file at {p}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"Mapping file {p} is not valid TOML: {exc}. See docs/importing.md.") from None

    def check(section: str, keys: set[str] | None = None) -> dict:
        value = data.get(section, {})
        if not isinstance(value, dict):
            raise ValueError(f"Mapping file {p}: [{section}] must be a table")
        unknown = set(value) - keys if keys else set()
        if unknown:
            raise ValueError(f"Mapping file {p}: unknown key(s) {sorted(unknown)} in [{section}]; allowed {sorted(keys)}")
        return value

    unknown = set(data) - SECTIONS
    if unknown:
        raise ValueError(f"Mapping file {p}: unknown section(s) {sorted(unknown)}; allowed {sorted(SECTIONS)}")
    rules = []
    for i, rule in enumerate(data.get("units", []), start=1):
        extra = set(rule) - {"from", "to", "factor", "offset", "paramcd"}
        if extra or "from" not in rule or "to" not in rule:
            raise ValueError(f"Mapping file {p}: [[units]] entry {i} needs 'from' and 'to' (optional factor, "
                             f"offset, paramcd); found keys {sorted(rule)}")
        rules.append(UnitRule(str(rule["from"]), str(rule["to"]), float(rule.get("factor", 1.0)),
                              float(rule.get("offset", 0.0)), rule.get("paramcd")))
    disposition = {str(k).upper(): str(v) for k, v in check("disposition").items()}
    bad = {k: v for k, v in disposition.items() if v not in SUBJECT_STATUSES}
    if bad:
        raise ValueError(f"Mapping file {p}: [disposition] values {bad} must be one of {', '.join(SUBJECT_STATUSES)}")
    return Mapping(
        study=check("study", STUDY_KEYS), files={k.lower(): str(v) for k, v in check("files").items()},
        lab_codes={str(k): str(v) for k, v in check("lab_codes").items()}, units=tuple(rules),
        disposition=disposition, subjects=check("subjects", SUBJECT_KEYS), ascites=check("ascites", ASCITES_KEYS),
    )
