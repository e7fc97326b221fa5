"""Test oracles: pandas row-level versions of statistics that production computes in SQL.

DESIGN §2, "one production path per number": the dashboard computes each statistic from DuckDB
aggregates (``dashboard.data.*_aggregates``, ``dashboard.data.queries``) and a domain function
(``*_from_aggregates``, ``*_from_counts``, ``*_from_peaks``, ``*_from_times``). The functions here compute
the same results from the raw rows, in pandas, as independently checkable code: the R-reference tests check
an oracle against R, and the aggregate tests check the SQL path against the oracle on the same rows. The
modules mirror ``dashboard.domain`` (``tests.oracle.lab_safety`` holds the row-level eDISH, mDISH and shift
table); each oracle hands its aggregates to the same domain tail as the SQL path, so the two can differ only
in what they aggregate. ``bench/naive.py`` (the whole-tables-in-pandas comparison) uses them too.
Nothing under ``src/`` may import this package.
"""
