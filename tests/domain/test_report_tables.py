"""The DSMB report tables' domain functions against hand-worked values: standardised differences (Austin 2009,
Yang & Dalton 2012), small-cell control, number formats, the enrolment plan and the CONSORT flow."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.baseline import smd_binary, smd_categorical, smd_continuous
from dashboard.domain.consort import consort_display, consort_flow, enrolment_against_plan, planned_cumulative
from dashboard.domain.disclosure import SMALL_CELL, suppress_small_cells
from dashboard.domain.report_format import Count, fmt_date, fmt_median_iqr, fmt_n_pct, fmt_p

# --- standardised differences, worked by hand ---------------------------------------------------------------


def test_continuous_smd_by_hand():
    # m1 = 10, s1 = 2; m2 = 8, s2 = 4: 2 / sqrt((4 + 16) / 2) = 2 / sqrt(10) = 0.6324555...
    assert smd_continuous(10, 2, 8, 4) == pytest.approx(0.632455532, abs=1e-9)
    assert smd_continuous(8, 4, 10, 2) == pytest.approx(-0.632455532, abs=1e-9)
    assert math.isnan(smd_continuous(1, 0, 1, 0))


def test_binary_smd_by_hand():
    # p1 = 0.5, p2 = 0.2: 0.3 / sqrt((0.25 + 0.16) / 2) = 0.3 / sqrt(0.205) = 0.662589...
    assert smd_binary(0.5, 0.2) == pytest.approx(0.3 / 0.452769257, abs=1e-8)
    assert smd_binary(0.5, 0.2) == pytest.approx(0.662589, abs=1e-6)


def test_categorical_smd_of_yang_and_dalton_by_hand():
    # p1 = (.5, .3, .2), p2 = (.2, .5, .3); first level left out: T = (-.2, -.1);
    # S1 = [[.21, -.06], [-.06, .16]], S2 = [[.25, -.15], [-.15, .21]], S = [[.23, -.105], [-.105, .185]];
    # det = .031525; T'S^-1 T = (.185*.04 + 2*.105*.02 + .23*.01) / .031525 = .0139 / .031525 = .440920
    assert smd_categorical([.5, .3, .2], [.2, .5, .3]) == pytest.approx(math.sqrt(0.0139 / 0.031525), abs=1e-9)
    assert smd_categorical([.5, .3, .2], [.2, .5, .3]) == pytest.approx(0.664018, abs=1e-6)


def test_categorical_smd_does_not_depend_on_the_level_left_out():
    a, b = [.5, .3, .2], [.2, .5, .3]
    assert smd_categorical(a[::-1], b[::-1]) == pytest.approx(smd_categorical(a, b), abs=1e-12)
    assert smd_categorical([a[1], a[0], a[2]], [b[1], b[0], b[2]]) == pytest.approx(smd_categorical(a, b), abs=1e-12)


def test_categorical_smd_of_two_levels_is_the_absolute_binary_smd():
    assert smd_categorical([.5, .5], [.8, .2]) == pytest.approx(abs(smd_binary(.5, .8)), abs=1e-12)


def test_categorical_smd_with_a_level_absent_in_one_arm_by_hand():
    # p1 = (1/3, 1/3, 1/3), p2 = (1/2, 1/2, 0): T = (-1/6, 1/3), S = [[17/72, -1/18], [-1/18, 1/9]],
    # det = 15/648, T'S^-1 T = (648/15) * (1/324 - 1/162 + 17/648) = 1
    assert smd_categorical([1 / 3] * 3, [.5, .5, 0]) == pytest.approx(1.0, abs=1e-12)
    # A level absent from both groups is left out.
    assert smd_categorical([1 / 3] * 3 + [0], [.5, .5, 0, 0]) == pytest.approx(1.0, abs=1e-12)
    assert smd_categorical([.4, .6], [.4, .6]) == 0.0


# --- small-cell control ----------------------------------------------------------------------------------------


def test_small_cells_become_less_than_five_and_nothing_else_changes():
    table = pd.DataFrame({
        "Stage": ["Randomised", "Died", "None", "Many", "Mean"],
        "All patients": [Count("70", 70), fmt_n_pct(3, 70), fmt_n_pct(0, 70), fmt_n_pct(12, 70), "4.0 (1.2)"],
        "Other": ["4 (5.7%)", "5 (7.1%)", "1", "median 3 (2–4)", "2025-01-03"],
    })
    out = suppress_small_cells(table)
    assert SMALL_CELL == 5
    assert out["All patients"].tolist() == ["70", "<5", "0 (0.0%)", "12 (17.1%)", "4.0 (1.2)"]
    # "n (x%)" written by anyone is a count; a bare "1" only in a named count column.
    assert out["Other"].tolist() == ["<5", "5 (7.1%)", "1", "median 3 (2–4)", "2025-01-03"]
    assert out.attrs["suppressed"] == 2
    named = suppress_small_cells(table, count_columns=["Other"])
    assert named["Other"].tolist() == ["<5", "5 (7.1%)", "<5", "median 3 (2–4)", "2025-01-03"]
    assert table["All patients"].tolist()[1] == "3 (4.3%)"  # the input is not changed


def test_small_cells_in_integer_columns_named_as_counts():
    out = suppress_small_cells(pd.DataFrame({"n": [0, 1, 4, 5, 30]}), count_columns=["n"])
    assert out["n"].tolist() == [0, "<5", "<5", 5, 30]


def test_suppression_refuses_unknown_columns():
    with pytest.raises(ValueError, match="count_columns"):
        suppress_small_cells(pd.DataFrame({"a": [1]}), count_columns=["b"])


# --- formats -----------------------------------------------------------------------------------------------------


def test_number_formats():
    assert fmt_p(0.0004) == "<0.001"
    assert fmt_p(0.01234) == "0.0123"
    assert fmt_p(0.5) == "0.500"
    assert fmt_p(0.001) == "0.00100"
    assert fmt_n_pct(1, 3) == "1 (33.3%)" and fmt_n_pct(1, 3).n == 1
    assert fmt_n_pct(2, 0) == "2"
    assert fmt_median_iqr(3, 2, 4.5) == "3.0 (2.0–4.5)"
    assert fmt_date(pd.Timestamp("2025-03-04 00:00")) == "2025-03-04"


# --- enrolment plan and CONSORT flow ------------------------------------------------------------------------------


def test_linear_plan_by_hand():
    # 70 patients over 2 months = round(60.875) = 61 days from 2024-03-01: at 2024-03-31 (30 days) 70 * 30 / 61.
    planned = planned_cumulative(pd.to_datetime(["2024-03-31", "2024-05-01", "2025-01-01", "2024-02-01"]),
                                 planned_n=70, start=date(2024, 3, 1), months=2.0)
    assert planned == pytest.approx([70 * 30 / 61, 70.0, 70.0, 0.0])


def test_enrolment_by_site_and_month_fills_months_and_accumulates():
    counts = pd.DataFrame({"site_id": ["A", "B", "A"], "month": pd.to_datetime(["2024-03-01", "2024-03-01",
                                                                                 "2024-05-01"]), "n": [2, 1, 3]})
    out = enrolment_against_plan(counts, planned_n=10, start=date(2024, 3, 1), months=3.0, cut_date=date(2024, 5, 20))
    a = out[out["site_id"] == "A"]
    assert a["n"].tolist() == [2, 0, 3] and a["cumulative"].tolist() == [2, 2, 5]
    total = out[out["site_id"] == "All sites"]
    assert total["n"].tolist() == [3, 0, 3] and total["cumulative"].tolist() == [3, 3, 6]
    # Plan: 10 over round(91.3125) = 91 days; end of March is day 30, April 60, May 91 (capped at 10).
    assert total["planned_cumulative"].tolist() == pytest.approx([10 * 30 / 91, 10 * 60 / 91, 10.0])
    assert out.loc[out["site_id"] == "A", "planned_cumulative"].isna().all()
    no_plan = enrolment_against_plan(counts, planned_n=10, start=None, months=None, cut_date=date(2024, 5, 20))
    assert no_plan["planned_cumulative"].isna().all() and "No enrolment plan" in no_plan.attrs["note"]


def test_consort_flow_from_counts_by_hand():
    counts = pd.DataFrame({
        "group": ["Act", "Ctl", None], "total": [False, False, True], "randomised": [4, 2, 6],
        "infusion_1": [4, 2, 6], "infusion_2": [3, 1, 4], "infusion_3": [2, 0, 2], "completed": [1, 0, 1],
        "died": [1, 1, 2], "transplanted": [0, 0, 0], "withdrawn": [0, 1, 1], "lost": [0, 0, 0], "on_study": [2, 0, 2]})
    flow = consort_flow(counts, ["Act", "Ctl"])
    assert list(dict.fromkeys(flow["group"])) == ["Act", "Ctl", "Total"]
    act = flow[flow["group"] == "Act"].set_index("stage")
    assert act.loc["infusion_2", "n"] == 3 and act.loc["infusion_2", "pct"] == 75.0
    assert np.isnan(act.loc["screened", "n"]) and "screening" in act.loc["screened", "note"]
    shown = consort_display(flow).set_index("Stage")
    assert shown.loc["Received infusion 2 (week 4)", "Ctl, n (%)"] == "1 (50.0%)"
    assert shown.loc["Screened", "Total, n (%)"] == "Not recorded"
    pooled = consort_flow(counts.iloc[[2]].assign(group=None, total=False), None)
    assert set(pooled["group"]) == {POOLED_LABEL}
