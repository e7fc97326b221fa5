"""Structure tests of dashboard.figures.safety: traces, panels, threshold lines, no arm names when pooled, the
volcano plot's points, labels and hover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL, safety
from dashboard.domain.safety_signals import signals_from_counts
from dashboard.figures import safety as figs
from dashboard.figures.style import arm_colors
from tests.domain.test_safety_signals import counts as signal_counts
from tests.oracle import adverse_events as oracle_aes
from tests.oracle import safety as safety_oracle

ARMS = ("UC-MSC", "Placebo")
COLORS = arm_colors(ARMS)
HOURS = {"PRE": -1, "EOI": 0, "1H": 1, "2H": 2, "4H": 4, "8H": 8, "24H": 24}


def trial() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Four patients x two infusions; A1 has 38.6 C at 2 h after infusion 1 (the only fever >= 38)."""
    arm = {"A1": "UC-MSC", "A2": "UC-MSC", "P1": "Placebo", "P2": "Placebo"}
    vs, inf = [], []
    for u, a in arm.items():
        for i in (1, 2):
            inf.append((u, i, 1 + 28 * (i - 1), a))
            for tp, h in HOURS.items():
                vs.append((u, i, tp, h, "TEMP", 38.6 if (u, i, h) == ("A1", 1, 2) else 36.6, a))
    vs = pd.DataFrame(vs, columns=["usubjid", "infusion_num", "timepoint", "hours_after", "paramcd", "value", "arm"])
    inf = pd.DataFrame(inf, columns=["usubjid", "infusion_num", "study_day", "arm"])
    ae = pd.DataFrame({
        "ae_id": [1, 2], "usubjid": ["A1", "P1"], "term": ["Pyrexia", "Rash"],
        "soc": ["General disorders and administration site conditions", "Skin and subcutaneous tissue disorders"],
        "grade": [1, 2], "serious": [False, True], "related": [True, False], "infusion_related": [True, False],
        "infusion_num": [1, None], "onset_hours_after": [2.0, None], "onset_day": [1, 40], "end_day": [2, 45],
        "outcome": ["RECOVERED/RESOLVED"] * 2,
    })
    subjects = pd.DataFrame({"usubjid": list(arm), "arm": list(arm.values()), "exposure_days": [365.25] * 4})
    return vs, inf, ae, subjects


def all_text(fig) -> str:
    return fig.to_json()


def test_temperature_figure_has_one_panel_per_infusion_and_a_trace_per_arm_and_panel():
    vs, *_ = trial()
    fig = figs.temperature_figure(safety_oracle.temperature_by_hour(vs, group_col="arm", arms=ARMS), COLORS)
    assert [a.text for a in fig.layout.annotations if a.text.startswith("Infusion")] == ["Infusion 1", "Infusion 2"]
    assert [(t.name, t.xaxis) for t in fig.data] == [("UC-MSC", "x"), ("Placebo", "x"), ("UC-MSC", "x2"), ("Placebo", "x2")]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]  # one legend entry per arm
    assert fig.data[0].line.color == COLORS["UC-MSC"]
    # Time points equally spaced: 2H is the fourth position (PRE, EOI, 1H, 2H); A1 38.6, A2 36.6 -> 37.6.
    assert list(fig.layout.xaxis.ticktext) == list(HOURS)
    assert list(fig.data[0].x) == [0, 1, 2, 3, 4, 5, 6]
    assert fig.data[0].y[3] == pytest.approx((38.6 + 36.6) / 2)


def test_temperature_figure_draws_each_threshold_in_every_panel():
    vs, *_ = trial()
    fig = figs.temperature_figure(safety_oracle.temperature_by_hour(vs, group_col=None), arm_colors([]),
                                  thresholds=(37.3, 38.0))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted({s.y0 for s in lines}) == [37.3, 38.0]
    assert len(lines) == 2 * 2  # two thresholds x two panels


def test_pooled_temperature_figure_shows_only_the_pooled_label():
    vs, *_ = trial()
    fig = figs.temperature_figure(safety_oracle.temperature_by_hour(vs, group_col=None), arm_colors([]))
    assert {t.name for t in fig.data} == {POOLED_LABEL}
    assert not any(arm in all_text(fig) for arm in ARMS)


def test_temperature_figure_individual_lines_one_trace_per_group_and_panel_behind_the_means():
    vs, *_ = trial()
    fig = figs.temperature_figure(safety_oracle.temperature_by_hour(vs, group_col="arm", arms=ARMS), COLORS,
                                  individual=safety.temperature_readings(vs, group_col="arm"))
    lines = [t for t in fig.data if t.name.endswith(": patients")]
    assert [(t.name, t.xaxis) for t in lines] == [("UC-MSC: patients", "x"), ("Placebo: patients", "x"),
                                                   ("UC-MSC: patients", "x2"), ("Placebo: patients", "x2")]
    assert fig.data[0].name == "UC-MSC: patients"  # drawn first, so the means lie on top
    a = lines[0]
    assert list(a.x) == [0, 1, 2, 3, 4, 5, 6, None] * 2  # A1 then A2, separated by a gap
    assert a.y[3] == 38.6 and a.text[0] == "A1" and a.line.color == COLORS["UC-MSC"]


def test_pooled_temperature_figure_with_individual_lines_names_no_arm():
    vs, *_ = trial()
    fig = figs.temperature_figure(safety_oracle.temperature_by_hour(vs, group_col=None), arm_colors([]),
                                  individual=safety.temperature_readings(vs, group_col=None))
    assert {t.name for t in fig.data} == {POOLED_LABEL, f"{POOLED_LABEL}: patients"}
    assert not any(arm in all_text(fig) for arm in ARMS)


def test_fever_incidence_figure_bars_are_percentages_with_counts():
    vs, inf, *_ = trial()
    res = safety_oracle.fever_incidence(vs, inf, group_col="arm", threshold=38.0, arms=ARMS)
    fig = figs.fever_incidence_figure(res, COLORS)
    assert [t.name for t in fig.data] == ["UC-MSC", "Placebo"]
    active = fig.data[0]
    assert list(active.x) == ["Infusion 1", "Infusion 2", "Any infusion (per patient)"]
    assert list(active.y) == pytest.approx([50.0, 0.0, 50.0])  # A1 of A1, A2
    assert list(active.text) == ["1/2", "0/2", "1/2"]
    assert fig.layout.yaxis.title.text == "% with fever (>= 38.0 C)"


def test_pooled_fever_and_ae_figures_show_no_arm():
    vs, inf, ae, subjects = trial()
    f1 = figs.fever_incidence_figure(safety_oracle.fever_incidence(vs, inf, group_col=None), arm_colors([]))
    f2 = figs.ae_overview_figure(oracle_aes.ae_overview(ae, subjects, group_col=None), arm_colors([]))
    for fig in (f1, f2):
        assert {t.name for t in fig.data} == {POOLED_LABEL}
        assert not any(arm in all_text(fig) for arm in ARMS)


def test_ae_overview_figure_lists_categories_with_any_ae_on_top():
    _, _, ae, subjects = trial()
    fig = figs.ae_overview_figure(oracle_aes.ae_overview(ae, subjects, group_col="arm"), COLORS)
    assert {t.name for t in fig.data} == set(ARMS)
    active = next(t for t in fig.data if t.name == "UC-MSC")
    assert active.y[-1] == "Any adverse event"  # last y of a horizontal bar is drawn on top
    assert dict(zip(active.y, active.x))["Any adverse event"] == pytest.approx(50.0)


@pytest.mark.parametrize(("builder", "make"), [
    (figs.temperature_figure, lambda vs, inf: safety_oracle.temperature_by_hour(vs, group_col="arm")),
    (figs.fever_incidence_figure, lambda vs, inf: safety_oracle.fever_incidence(vs, inf, group_col="arm")),
])
def test_figures_refuse_groups_without_a_colour(builder, make):
    vs, inf, *_ = trial()
    with pytest.raises(ValueError, match=f"{builder.__name__}: argument colors has no colour for group"):
        builder(make(vs, inf), {"UC-MSC": "#0072B2"})


def test_temperature_figure_rejects_a_table_without_ci_columns():
    vs, *_ = trial()
    table = safety_oracle.temperature_by_hour(vs, group_col=None).summary.drop(columns="ci_upper")
    with pytest.raises(ValueError, match="temperature_figure: argument temp_summary is missing column"):
        figs.temperature_figure(table, arm_colors([]))


# ---------------------------------------------------------------- the volcano plot of the safety signals


def _signals(group_col: str | None = "arm"):
    return signals_from_counts(signal_counts(group_col), arms=ARMS if group_col else None)


def test_volcano_has_a_trace_per_soc_with_its_terms_at_risk_difference_and_minus_log10_p():
    signals = _signals()
    fig = figs.volcano_figure(signals)
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["General", "Infections", "Hepatobiliary", "Skin"]
    pneumonia = list(traces["Infections"].customdata[:, 1]).index("Pneumonia")
    row = signals.comparison.set_index("term").loc["Pneumonia"]
    assert traces["Infections"].x[pneumonia] == pytest.approx(100 * row["risk_difference"])
    assert traces["Infections"].y[pneumonia] == pytest.approx(-np.log10(row["p"]))
    assert tuple(traces["Infections"].customdata[pneumonia, :2]) == ("Infections", "Pneumonia")
    # Marker area grows with the events: Pneumonia (9 events) is drawn larger than Sepsis (3).
    sizes = dict(zip(traces["Infections"].customdata[:, 1], traces["Infections"].marker.size))
    assert sizes["Pneumonia"] > sizes["Sepsis"]
    assert "UC-MSC minus Placebo" in fig.layout.xaxis.title.text


def test_volcano_labels_and_rings_only_the_flagged_terms():
    fig = figs.volcano_figure(_signals())
    labelled = {text for t in fig.data for text in t.text if text}
    assert labelled == {"Pneumonia"}  # the only term flagged (test_safety_signals)
    widths = {term: w for t in fig.data for term, w in zip(t.customdata[:, 1], t.marker.line.width)}
    assert widths["Pneumonia"] > widths["Pyrexia"]


def test_volcano_hover_names_both_arms_counts_and_adjusted_p_values():
    template = figs.volcano_figure(_signals()).data[0].hovertemplate
    for text in ("UC-MSC:", "Placebo:", "Risk difference", "Risk ratio", "BH", "double FDR"):
        assert text in template


def test_volcano_refuses_a_pooled_result():
    with pytest.raises(ValueError, match="no comparison between two arms"):
        figs.volcano_figure(_signals(group_col=None))
