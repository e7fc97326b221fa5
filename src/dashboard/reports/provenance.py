"""Reports layer: the provenance line every export carries (study, cut, population, blinding, version).

Pure text from values the caller already has, so the app (through its query cache) and the command
line (straight from the TrialView) write the very same words.
"""

from __future__ import annotations

from datetime import datetime

from dashboard import __version__
from dashboard.domain.subject_filter import SubjectFilter


def provenance_line(study: dict, checksum: str, subject_filter: SubjectFilter, banner: str) -> str:
    """Study id, data cut date and checksum prefix, the population in words, blinding words, app version."""
    return (f"{study['study_id']} · data cut {study['data_cut_date']:%Y-%m-%d} (checksum {checksum[:8]}) · "
            f"{subject_filter.describe()} · {banner} · app {__version__}")


def with_generated(provenance: str, generated: datetime) -> str:
    """The provenance line with the time the document was generated (UTC, to the minute)."""
    return f"{provenance} · generated {generated:%Y-%m-%d %H:%M} UTC"
