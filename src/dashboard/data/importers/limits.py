"""Data layer: the size limits of a delivery, in one place (docs/importing.md, "Size limits").

They stop a zip bomb or an oversized file before it is read into memory, and are set for the largest
delivery the dashboard is built for, a CSV delivery of 100,000 simulated patients: 10.2 M lab rows,
a 735 MB lab_results.csv and 860 MB in all, 81 MB zipped (the 254-patient CDISC pilot: 56 MB
of XPORT files, the largest 33 MB, zipped 3.7 MB). Streamlit's upload limit, ``server.maxUploadSize``
in .streamlit/config.toml, is ``MAX_ARCHIVE_BYTES`` in MiB (a test keeps the two equal).
"""

MIB = 1024**2  # Streamlit's "megabytes" are MiB
GIB = 1024**3

# One data file (.xpt, .csv, .parquet) in a folder or expanded from a zip: the 100,000-patient
# lab_results.csv is 735 MB (about 0.94 GB at 13 M lab rows).
MAX_FILE_BYTES = 1 * GIB
# All data files of one zip, expanded.
MAX_TOTAL_BYTES = 2 * GIB
# The .zip itself (the /data upload): the 100,000-patient CSV delivery zips to 81 MB.
MAX_ARCHIVE_BYTES = 150 * MIB
# Expanded / compressed size of a zip member: CSV files compress about 10:1, the pilot's XPORT files
# 17-27:1; a zip of zeros 1000:1. Members expanding to less than RATIO_FROM_BYTES are not held to it
# (a small file of blanks may compress better and can do no harm).
MAX_RATIO = 100
RATIO_FROM_BYTES = 1 * MIB
