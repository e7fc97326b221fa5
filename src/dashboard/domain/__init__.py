"""Domain layer: pure functions on pandas DataFrames. No SQL, no Streamlit, no plotting.

Glossary (the same names are DuckDB columns, DataFrame columns and argument names):

- ``usubjid``: unique subject id; ``site_id``: enrolling site; ``arm``: randomised arm name.
- ``paramcd``: lab or derived parameter code (see :mod:`dashboard.domain.labs`); ``value``: its value
  in the registry unit; ``lower_limit``/``upper_limit``: the record's own reference range.
- ``visit``/``visit_num``: scheduled visit label and number; ``study_day``: day 1 is the first infusion.
- ``time_days``/``event``: time-to-event rows; ``event`` is 1 for the endpoint's event, 0 censored.
- ``*_col`` arguments name the DataFrame column playing a role (``duration_col="time_days"``).
- ``conf_level`` (default 0.95) and ``conf_type`` (``"log-log"``, ``"log"``, ``"plain"``) follow R.
"""

# The one label for results computed over all arms together (what blinded viewers see). Never a
# relabelled arm: "Group A/B" would unblind a 50:20 trial by its sizes (DESIGN §4).
POOLED_LABEL = "All patients"
