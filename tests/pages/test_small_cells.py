"""Small cells in blinded views (issue 16): a blinded viewer's pooled count tables show 1-4 as "<5" with the
percentage beside it; the DSMB's show the counts. The rule itself: tests/domain/test_report_tables.py and here."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.domain.disclosure import SUPPRESSED, suppress_pooled_counts
from tests.pages.apptest_helpers import run_page


def test_counts_and_their_percentages_are_suppressed_by_header():
    table = pd.DataFrame({"term": ["Rash", "Fever", "None"], "All patients · patients": [3, 12, 0],
                          "All patients · %": [4.3, 17.1, 0.0], "All patients · events": [3, 15, 0],
                          "mean": [2.0, 3.0, 1.0]})
    out = suppress_pooled_counts(table)
    assert list(out["All patients · patients"]) == [SUPPRESSED, "12", "0"]
    assert list(out["All patients · %"]) == [SUPPRESSED, "17.1", "0"]
    assert list(out["All patients · events"]) == [SUPPRESSED, "15", "0"]
    assert list(out["mean"]) == [2.0, 3.0, 1.0] and out.attrs["suppressed"] == 2


def test_a_cross_table_names_its_count_columns():
    shift = pd.DataFrame({"baseline": ["0", "1"], "0": [30, 2], "1": [4, 9]})
    assert suppress_pooled_counts(shift).equals(shift)  # no count header: nothing guessed
    out = suppress_pooled_counts(shift, ["0", "1"])
    assert out.values.tolist() == [["0", "30", SUPPRESSED], ["1", SUPPRESSED, "9"]]


def _tables(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def _shown(page: str, role: str, section: str | None, query: dict | None = None) -> str:
    at = run_page(page, role, query)
    if section:
        next(w for w in at.segmented_control if w.key == "safety_section").set_value(section).run()
    assert not at.exception
    return " ".join(t.to_csv() for t in _tables(at))


@pytest.mark.parametrize("page, section, query", [
    ("pages/safety.py", "AEs by SOC and term", None),
    # Every AE overview category of the whole demo has 0 or at least 5 patients; the women have small ones.
    ("pages/safety.py", "AE overview", {"sex": "F"}), ("pages/overview.py", None, None), ("pages/ascites.py", None, None)])
def test_blinded_pages_show_small_counts_as_less_than_five(app_env, page, section, query):
    blinded, dsmb = _shown(page, "investigator", section, query), _shown(page, "dsmb", section, query)
    assert SUPPRESSED in blinded
    assert SUPPRESSED not in dsmb


def test_figure_annotations_write_small_counts_as_less_than_five():
    """The number-at-risk row under a blinded KM curve and the n row under a blinded mean-by-visit figure."""
    from dashboard.domain.km import km_estimate
    from dashboard.figures.km import km_figure

    rows = pd.DataFrame({"usubjid": [f"P{i}" for i in range(8)], "time_days": [5, 10, 20, 30, 40, 50, 60, 70],
                         "event": [1, 0, 1, 0, 1, 0, 1, 0]})
    km = km_estimate(rows, group_col=None)
    blinded = km_figure(km, colors={}, tick_days=[0, 35, 65], small_cells=True)
    dsmb = km_figure(km, colors={}, tick_days=[0, 35, 65])
    risk = [t for t in blinded.data if (t.meta or {}).get("role") == "risk"][0]
    assert list(risk.text) == ["8", SUPPRESSED, SUPPRESSED]
    assert list([t for t in dsmb.data if (t.meta or {}).get("role") == "risk"][0].text) == ["8", "4", "1"]


def test_bar_labels_of_blinded_figures_write_small_counts_as_less_than_five():
    from dashboard.figures.overview import disposition_figure

    disposition = pd.DataFrame({"status": ["died", "on study"], "group": ["All patients"] * 2, "n": [3, 60],
                                "pct": [4.8, 95.2]})
    blinded = disposition_figure(disposition, {"All patients": "#333333"}, small_cells=True)
    assert list(blinded.data[0].text) == [SUPPRESSED, "60"]
    assert list(disposition_figure(disposition, {"All patients": "#333333"}).data[0].text) == ["3", "60"]


def test_ascites_grade_ticks_write_small_counts_as_less_than_five():
    from dashboard.figures.ascites import grade_bars_figure

    rows = [("All patients", 0, "Baseline", g, c, 60, 100 * c / 60) for g, c in ((0, 40), (1, 16), (2, 3), (3, 1))]
    rows += [("All patients", 1, "W52", g, c, 3, 100 * c / 3) for g, c in ((0, 3), (1, 0), (2, 0), (3, 0))]
    grades = pd.DataFrame(rows, columns=["group", "visit_num", "visit", "grade", "count", "n", "pct"])
    ticks = list(grade_bars_figure(grades, small_cells=True).data[0].x)
    assert ticks == ["Baseline<br>n=60", f"W52<br>n={SUPPRESSED}"]
    assert list(grade_bars_figure(grades).data[0].x) == ["Baseline<br>n=60", "W52<br>n=3"]
