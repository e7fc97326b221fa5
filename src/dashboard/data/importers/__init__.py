"""Data layer: importers of real data cuts (SDTM, ADaM, the CSV template) into the data model.

Each importer is a module with ``FORMAT``, ``HELP`` and ``load(delivery, mapping, problems) -> Bundle``;
``IMPORTERS`` is the one registry the command and the docs enumerate. :func:`pipeline.import_cut`
runs one import: read, validate everything, then write a new cut atomically and keep a copy of it.
"""

from __future__ import annotations

from dashboard.data.importers import adam, csv_template, sdtm

IMPORTERS = (sdtm, adam, csv_template)
BY_FORMAT = {m.FORMAT: m for m in IMPORTERS}
