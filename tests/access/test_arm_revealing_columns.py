"""The one registry of arm-revealing columns (data/schema.py) feeds the blinded SQL and the import report."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.data.importers.problems import ImportValidationError
from dashboard.data.schema import (
    ARM_REVEALING_COLUMNS,
    ARM_REVEALING_SOURCE_COLUMNS,
    arm_columns_sql,
    create_tables,
    table_columns,
    visible_columns,
)
from dashboard.errors import DataValidationError
from dashboard.ui.data_import import HIDDEN, problem_report


@pytest.fixture(scope="module")
def empty_trial():
    with duckdb.connect(":memory:") as con:
        create_tables(con, with_arms=True)  # the data model as unblinded views show it
        yield con


def test_every_registered_column_exists_in_its_table(empty_trial):
    for table, columns in ARM_REVEALING_COLUMNS.items():
        assert set(columns) <= set(table_columns(empty_trial, table)), table


def test_blinded_select_lists_leave_out_exactly_the_registered_columns(empty_trial):
    for table, columns in ARM_REVEALING_COLUMNS.items():
        every = table_columns(empty_trial, table)
        assert visible_columns(empty_trial, table, True) == every
        assert visible_columns(empty_trial, table, False) == [c for c in every if c not in columns]
        assert arm_columns_sql(table, False, "x") == ""
        assert arm_columns_sql(table, True, "x") == "".join(f", x.{c}" for c in columns)


def test_the_trial_tables_columns_are_source_columns_too():
    # The CSV template names its columns as the trial tables do, so a delivery's "product" reveals the arm.
    assert {c for columns in ARM_REVEALING_COLUMNS.values() for c in columns} <= ARM_REVEALING_SOURCE_COLUMNS
    assert {"armcd", "trt01p", "trt01a", "extrt", "exdose"} <= ARM_REVEALING_SOURCE_COLUMNS


@pytest.mark.parametrize("column", sorted(ARM_REVEALING_SOURCE_COLUMNS))
def test_the_import_report_never_repeats_a_value_of_an_arm_revealing_column(column):
    problems = [DataValidationError("dm.xpt", 3, column.upper(), "Zorblax-7Q", "one of the arms: Zorblax-7Q, Quux"),
                DataValidationError("dm.xpt", 4, "AGE", "-1", "an age in years")]
    report = problem_report(ImportValidationError(problems, len(problems)))
    assert "Zorblax" not in report.to_csv() and report.loc[0, "found"] == HIDDEN
    assert report.loc[1, "found"] == "-1"
