"""Structure tests of dashboard.figures.profile: panels, shared axis, log axes, marks, legend, no arm."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.domain import profile
from dashboard.figures import profile as figs
from tests.domain.test_profile import labs

OUTCOMES = pd.DataFrame({"label": ["Death"], "study_day": [40]})
SPAN = (-10.0, 50.0)


def lane() -> pd.DataFrame:
    ae = pd.DataFrame({"ae_id": [1, 2, 3], "term": ["Pyrexia", "Rash", "Pyrexia"], "grade": [1, 3, 2],
                       "serious": [False, True, False], "infusion_related": [True, False, False],
                       "onset_day": [1, 5, 30], "end_day": [2, 9, None]})
    return profile.ae_lane(ae, last_day=40)


def ascites() -> pd.DataFrame:
    return pd.DataFrame({"study_day": [1, 15, 29], "grade": [2, 1, 0], "depth_cm": [4.5, 2.0, 0.0]})


def panels_fig(scale="raw"):
    return figs.lab_panels_figure(profile.lab_panels(labs(), scale=scale), scale=scale, infusion_days=[1, 29],
                                  outcomes=OUTCOMES, x_range=SPAN, cols=2)


def test_one_panel_per_lab_titled_with_name_and_unit():
    fig = panels_fig()
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Albumin (g/L)", "Total bilirubin (umol/L)", "Alanine aminotransferase (U/L)"]


def test_all_panels_share_one_study_day_axis_and_the_given_range():
    fig = panels_fig()
    xaxes = [k for k in fig.layout if k.startswith("xaxis")]
    assert len(xaxes) == 4  # 3 labs on a 2 x 2 grid
    # make_subplots(shared_xaxes="all") ties every axis to one (bottom-left), so zooming one zooms all.
    assert len({fig.layout[k].matches for k in xaxes} - {None}) == 1
    assert all(tuple(fig.layout[k].range) == SPAN for k in xaxes)


@pytest.mark.parametrize("scale, log_axes", [("raw", {"yaxis2", "yaxis3"}), ("uln", {"yaxis2", "yaxis3"}),
                                             ("chg", set())])
def test_log_axes_for_registry_log_labs_except_on_change_scale(scale, log_axes):
    fig = panels_fig(scale)
    assert {k for k in fig.layout if k.startswith("yaxis") and fig.layout[k].type == "log"} == log_axes


def test_out_of_range_points_are_their_own_trace():
    fig = panels_fig()
    out = [t for t in fig.data if t.name == "Out of range"]
    assert len(out) == 3
    bili = out[1]  # panels in registry order: ALB, BILI, ALT
    assert list(bili.x) == [1, 15]  # 34.2 and 20.0 above 17.1; 17.1 itself is not
    assert sum(t.showlegend for t in out) == 1


def test_reference_band_spans_the_axis_from_the_records_limits():
    fig = panels_fig()
    band = [t for t in fig.data if t.name == "Reference range"][0]
    assert band.fill == "tonexty" and band.x[0] == SPAN[0] and band.x[-1] == SPAN[1]
    assert set(band.y) == {55.0}  # ALB upper from the registry


def test_infusions_and_death_are_vertical_lines_on_every_panel_with_one_legend_entry_each():
    fig = panels_fig()
    shapes = fig.layout.shapes
    assert len([s for s in shapes if s.name == "Infusion"]) == 2 * 3
    assert len([s for s in shapes if s.name == "Death"]) == 3
    assert sorted(s.name for s in shapes if s.showlegend) == ["Death", "Infusion"]


def test_course_figure_has_meld_scores_ascites_and_ae_lanes_on_one_axis():
    rows = labs()
    with_grades = pd.concat([rows, rows[rows["paramcd"] == "MELD"].assign(paramcd="CPCLASS", value=3.0)])
    fig = figs.course_figure(with_grades, ascites(), lane(), infusion_days=[1, 29], outcomes=OUTCOMES, x_range=SPAN)
    names = [t.name for t in fig.data]
    assert "MELD (UNOS)" in names and "Ascites grade" in names and "Deepest pocket (cm)" in names
    # The MELD lane draws the three MELD scores only, not the grades derived beside them.
    assert [n for n in names if n.startswith("MELD")] == ["MELD (UNOS)", "MELD-Na (OPTN 2016)", "MELD 3.0"]
    assert not any("Child-Pugh" in n or "ACLF" in n for n in names)
    assert [n for n in names if n.startswith("AE grade")] == ["AE grade 1", "AE grade 2", "AE grade 3"]
    assert [a.text for a in fig.layout.annotations] == ["MELD scores", "Ascites", "Adverse events"]
    assert fig.layout.xaxis.matches == fig.layout.xaxis2.matches == "x3"  # the AE lane's axis


def test_ae_bars_run_onset_to_end_and_mark_serious_and_infusion_related():
    fig = figs.course_figure(labs(), ascites(), lane(), x_range=SPAN)
    g3 = next(t for t in fig.data if t.name == "AE grade 3")
    assert g3.orientation == "h" and list(g3.base) == [5.0] and list(g3.x) == [5.0]  # days 5-9
    assert list(g3.marker.line.width) == [2.5]  # serious
    star = next(t for t in fig.data if t.name == "Infusion-related")
    assert list(star.x) == [1.0] and list(star.y) == ["Pyrexia"]


def test_temperature_figure_one_line_per_infusion_with_fever_thresholds():
    temps = pd.DataFrame({"infusion_num": [1, 1, 2, 2], "study_day": [1, 1, 29, 29], "hours_after": [-1.0, 2.0] * 2,
                          "timepoint": ["PRE", "2H"] * 2, "value": [36.5, 38.2, 36.6, 36.7]})
    fig = figs.post_infusion_temperature_figure(temps)
    assert [t.name for t in fig.data] == ["Infusion 1 (day 1)", "Infusion 2 (day 29)"]
    assert list(fig.layout.xaxis.categoryarray) == ["PRE", "2H"]
    assert sorted(s.y0 for s in fig.layout.shapes) == [37.3, 38.0]


def test_no_figure_carries_an_arm_name():
    text = " ".join(str(f.to_dict()) for f in (panels_fig(), figs.course_figure(labs(), ascites(), lane())))
    assert "UC-MSC" not in text and "Placebo" not in text


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="lab_panels_figure: argument 'panels' lacks"):
        figs.lab_panels_figure(labs())
    with pytest.raises(ValueError, match="scale must be one of"):
        figs.lab_panels_figure(profile.lab_panels(labs()), scale="pct")
