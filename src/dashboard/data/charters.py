"""Data layer: reading a DSMB charter file, and the charter shipped with the simulated trial.

A charter is parsed and validated by :func:`dashboard.domain.charter.parse_charter`; it is stored per cut in
the ``charter`` table (:func:`dashboard.data.database.write_trial`, carried forward by
:func:`dashboard.data.importers.cuts.write_cut`). docs/charter.md describes the file.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from dashboard.domain.charter import Charter, CharterError, parse_charter

DEMO_CHARTER = "demo_charter.toml"
DEMO_PATIENTS = 70
_PLANNED_EVENTS = re.compile(r"^planned_events\s*=\s*(\d+)[^\n]*$", re.M)


def read_charter_file(path: str | os.PathLike, source: str | None = None) -> Charter:
    """The charter in the file at ``path``; messages name it ``source`` (default: the path as given).
    Raises CharterError when the file cannot be read as UTF-8 text or the charter is invalid."""
    name = source or str(path)
    try:
        content = Path(path).read_bytes()
    except FileNotFoundError:
        raise CharterError([f"{name}: (file): no such file (got {path})"]) from None
    except IsADirectoryError:
        raise CharterError([f"{name}: (file): a folder, not a charter file (got {path})"]) from None
    return charter_from_bytes(content, name)


def charter_from_bytes(content: bytes, source: str) -> Charter:
    """The charter in ``content`` (a file's bytes, UTF-8); raises CharterError naming ``source``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CharterError([f"{source}: (file): not UTF-8 text: {exc.reason} at byte {exc.start} "
                            f"(got a binary file)"]) from None
    return parse_charter(text, source)


def demo_charter(patients: int = DEMO_PATIENTS) -> tuple[Charter, str]:
    """The shipped charter of the simulated trial and how its source is recorded. For a trial of other than
    70 patients ``planned_events`` is scaled by patients / 70 (rounded, at least 2), in the stored text too."""
    text = resources.files("dashboard.data").joinpath(DEMO_CHARTER).read_text(encoding="utf-8")
    source = f"shipped demo charter ({DEMO_CHARTER})"
    if patients != DEMO_PATIENTS:
        planned = int(_PLANNED_EVENTS.search(text).group(1))
        scaled = max(2, round(planned * patients / DEMO_PATIENTS))
        text = _PLANNED_EVENTS.sub(f"planned_events = {scaled}  # scaled from {planned} for {patients:,} "
                                   f"patients (x {patients:,} / {DEMO_PATIENTS})", text, count=1)
        source += f", planned_events scaled from {planned} to {scaled} for {patients:,} patients"
    return parse_charter(text, DEMO_CHARTER), source
