"""Structure of the KM, cumulative-incidence and forest figures (trace names, counts, risk table)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dashboard.domain import POOLED_LABEL
from dashboard.domain.competing_risks import cumulative_incidence
from dashboard.domain.subgroups import subgroup_hr
from dashboard.domain.survival import km_estimate
from dashboard.figures.forest import forest_figure
from dashboard.figures.km import MAX_HOVER_IDS, cif_figure, km_accrual_figure, km_figure, risk_counts
from dashboard.figures.style import arm_colors

REF = Path(__file__).parents[1] / "domain" / "reference"
ARMS = ["UC-MSC", "Placebo"]


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return pd.read_csv(REF / "ties_cr_data.csv")


@pytest.fixture(scope="module")
def km(trial):
    return km_estimate(trial, group_col="arm", groups=ARMS)


def traces(fig, role):
    return [t for t in fig.data if (t.meta or {}).get("role") == role]


def test_one_step_curve_per_arm_named_by_arm(km):
    fig = km_figure(km, colors=arm_colors(ARMS))
    curves = traces(fig, "curve")
    assert [t.name for t in curves] == ARMS
    assert all(t.line.shape == "hv" for t in curves)
    assert {t.name for t in fig.data} == set(ARMS)
    assert fig.layout.yaxis.title.text == "Survival probability"


def test_curve_starts_at_one_and_follows_the_estimate(km):
    curve = traces(km_figure(km, colors=arm_colors(ARMS)), "curve")[0]
    table = km.table[km.table["group"] == "UC-MSC"]
    assert list(curve.x) == [0.0, *table["time"]]
    assert list(curve.y) == [1.0, *table["survival"]]


def test_censor_marks_sit_at_censoring_times_and_carry_patient_ids(km, trial):
    marks = traces(km_figure(km, colors=arm_colors(ARMS)), "censor")
    assert [t.name for t in marks] == ARMS
    uc = marks[0]
    censored = trial[(trial["arm"] == "UC-MSC") & (trial["event"] == 0)]
    assert sorted(uc.x) == sorted(censored["time_days"].unique())
    ids_in_marks = {i for row in uc.customdata for i in row[1].split(", ")}
    assert set(censored["usubjid"]) <= ids_in_marks


def test_a_censor_mark_names_a_few_patients_and_counts_the_rest():
    # 25 patients censored on day 30 (a data cut, say) and one death: the mark lists 10 ids, not 25.
    rows = pd.DataFrame({"usubjid": [f"P{i:02d}" for i in range(26)], "time_days": [30] * 25 + [10],
                         "event": [0] * 25 + [1]})
    fig = km_figure(km_estimate(rows, group_col=None), colors={})
    (mark,) = traces(fig, "censor")
    count, names = mark.customdata[0]
    assert count == 25 and len(names.split(", ")) == MAX_HOVER_IDS and names.endswith(" and 15 more")
    curve = traces(fig, "curve")[0]
    assert list(curve.customdata) == ["26", "26", "25"]  # at risk: from the start, at day 10, at day 30


def test_risk_table_text_equals_at_risk_counts_at_ticks(km, trial):
    ticks = [0, 10, 20, 30, 40]
    fig = km_figure(km, colors=arm_colors(ARMS), tick_days=ticks)
    for row in traces(fig, "risk"):
        times = trial.loc[trial["arm"] == row.name, "time_days"]
        assert list(row.text) == [str(int((times >= day).sum())) for day in ticks]
        assert list(row.x) == ticks
    assert list(fig.layout.xaxis2.tickvals) == ticks


def test_risk_table_optional_rows_and_weeks(km):
    fig = km_figure(km, colors=arm_colors(ARMS), risk_table_rows=("at_risk", "events", "censored"),
                    time_unit="weeks", tick_days=[0, 14, 28])
    rows = traces(fig, "risk")
    assert len(rows) == 6
    uc_events = next(t for t in rows if t.name == "UC-MSC" and t.meta["row"] == "events")
    table = km.table[km.table["group"] == "UC-MSC"]
    assert list(uc_events.text) == [str(risk_counts(table, d)["events"]) for d in (0, 14, 28)]
    assert list(uc_events.x) == [0, 2, 4]
    assert fig.layout.xaxis2.title.text == "Time (weeks)"


def test_ci_band_can_be_hidden(km):
    assert len(traces(km_figure(km, colors=arm_colors(ARMS)), "ci")) == 4
    assert traces(km_figure(km, colors=arm_colors(ARMS), show_ci=False, show_censor=False), "ci") == []


def test_pooled_figure_names_only_all_patients(trial):
    pooled = km_estimate(trial, group_col=None)
    fig = km_figure(pooled, colors=arm_colors(ARMS), show_median=True,
                    risk_table_rows=("at_risk", "events"))
    assert {t.name for t in fig.data} == {POOLED_LABEL}
    text = json.dumps(fig.to_plotly_json(), default=str)
    assert not any(arm in text for arm in ARMS)


def test_bad_time_unit_is_rejected(km):
    with pytest.raises(ValueError, match="km_figure: argument time_unit='years'"):
        km_figure(km, colors=arm_colors(ARMS), time_unit="years")


def test_cif_figure_has_one_panel_per_cause_and_one_curve_per_arm(trial):
    panels = [(cause, cumulative_incidence(trial, group_col="arm", groups=ARMS, cause=code))
              for cause, code in (("death", 1), ("transplant", 2))]
    fig = cif_figure(panels, colors=arm_colors(ARMS), show_ci=False)
    curves = [t for t in fig.data if t.meta["role"] == "curve"]
    assert [(t.meta["cause"], t.name) for t in curves] == [(c, arm) for c in ("death", "transplant") for arm in ARMS]
    assert all(t.y[0] == 0 for t in curves) and [t.showlegend for t in curves] == [True, True, False, False]
    assert [a.text for a in fig.layout.annotations] == ["Cumulative incidence of death", "Cumulative incidence of transplant"]
    assert curves[2].xaxis == "x2" and max(curves[2].y) > 0


def test_cif_figure_draws_the_ci_band_closed_while_the_incidence_is_zero(trial):
    cif = cumulative_incidence(trial, group_col="arm", groups=ARMS)
    fig = cif_figure([("death", cif)], colors=arm_colors(ARMS))
    bands = [t for t in fig.data if t.meta["role"] == "ci"]
    assert len(bands) == 2 * len(ARMS) and bands[1].fill == "tonexty"
    t = cif.table[cif.table["group"] == ARMS[0]]
    assert list(bands[1].y[1:]) == list(t["lower"].where(t["cif"] > 0, 0.0))


def test_forest_figure_log_axis_and_interaction_labels():
    lung = pd.read_csv(REF / "lung_data.csv")
    result = subgroup_hr(lung, group_col="arm", reference="Male", groups=["Female", "Male"],
                         subgroups={"age_group": "Age", "ecog": "ECOG"})
    fig = forest_figure(result, arm_colors(["Female", "Male"]))
    assert [t.name for t in fig.data] == ["Female"]
    assert fig.layout.xaxis.type == "log"
    assert len(fig.data[0].y) == len(result.summary)
    notes = [a.text for a in fig.layout.annotations]
    assert sum(n.startswith("interaction p = ") for n in notes) == 2


def test_accrual_figure_has_one_frame_per_as_of_date_with_the_same_traces(trial):
    early = km_estimate(trial[trial["time_days"] <= 10], group_col="arm", groups=ARMS)
    frames = [("2024-02-01", early), ("2024-03-01", km_estimate(trial, group_col="arm", groups=ARMS))]
    fig = km_accrual_figure(frames, colors=arm_colors(ARMS), time_unit="weeks")
    assert [f.name for f in fig.frames] == ["2024-02-01", "2024-03-01"]
    assert all([t.name for t in f.data] == [t.name for t in fig.data] for f in fig.frames)
    assert [t.name for t in traces(fig, "curve")] == ARMS
    assert fig.layout.sliders[0].active == 1 and fig.layout.updatemenus[0].buttons[0].label == "▶ Play"


def test_pooled_accrual_figure_names_only_all_patients(trial):
    fig = km_accrual_figure([("2024-03-01", km_estimate(trial, group_col=None))], colors=arm_colors([]))
    assert {t.name for f in fig.frames for t in f.data} == {POOLED_LABEL}
    assert all(arm not in fig.to_json() for arm in ARMS)
