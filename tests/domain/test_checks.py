"""The shared argument checks of :mod:`dashboard.domain.checks`."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL, checks

DF = pd.DataFrame({"usubjid": ["a", "b"], "arm": ["X", "Y"]})


def test_require_columns_names_function_argument_and_missing_columns():
    checks.require_columns("f", DF, ["usubjid"])
    with pytest.raises(ValueError, match=r"f: argument df lacks column\(s\) \['event'\]; required: \['usubjid', 'event'\]"):
        checks.require_columns("f", DF, ["usubjid", "event"])
    with pytest.raises(ValueError, match=r"f: argument vs lacks column\(s\) \['x'\]"):
        checks.require_columns("f", DF, ["x"], arg="vs")
    with pytest.raises(ValueError, match="f: argument df must be a pandas DataFrame, got list"):
        checks.require_columns("f", [], ["x"])


def test_check_group_col_accepts_a_column_or_none():
    checks.check_group_col("f", DF, "arm")
    checks.check_group_col("f", DF, None)
    with pytest.raises(ValueError, match=r"f: argument group_col='sex'; allowed values: a column of df"):
        checks.check_group_col("f", DF, "sex")


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.95", True, None])
def test_check_conf_level_rejects_values_outside_zero_one(bad):
    with pytest.raises(ValueError, match=r"f: argument conf_level=.*; allowed values: 0 < conf_level < 1"):
        checks.check_conf_level("f", bad)


def test_check_conf_type():
    for conf_type in checks.CONF_TYPES:
        checks.check_conf_type("f", conf_type)
    with pytest.raises(ValueError, match=r"f: argument conf_type='logit'; allowed values: \['log-log', 'log', 'plain'\]"):
        checks.check_conf_type("f", "logit")
    checks.check_conf_type("f", "wald", allowed=("wald", "exact"))


def test_group_labels_and_order():
    assert checks.group_labels(DF, None) == POOLED_LABEL
    assert checks.group_labels(DF.assign(arm=[1, 2]), "arm").tolist() == ["1", "2"]
    assert checks.group_order(["Y", "X", "Y"], None) == ("X", "Y")
    assert checks.group_order(["Y", "X"], ["Y", 3]) == ("Y", "3")
