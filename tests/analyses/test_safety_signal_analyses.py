"""analyses.safety's safety-signal sections on the unusual-arms trial: the DSMB gets arms and comparisons, an
investigator the same numbers pooled, and every result equals the domain functions on the fetched rows."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.access.trial_view import TrialView
from dashboard.access.viewer import Viewer
from dashboard.analyses import safety
from dashboard.domain import POOLED_LABEL
from dashboard.domain.charter import days_since_last_infusion
from dashboard.domain.km import km_estimate
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import UNUSUAL_ARMS, connect_unblinded
from tests.oracle.safety_signals import first_sae_times

DSMB, INVESTIGATOR = Viewer("dsmb", "dsmb", "DSMB"), Viewer("inv", "investigator", "Investigator")
EVERYONE = SubjectFilter()


@pytest.fixture(scope="module")
def views(unusual_arms_db):
    with connect_unblinded(unusual_arms_db) as con:
        yield {v.role: TrialView(con, v, unusual_arms_db) for v in (DSMB, INVESTIGATOR)}


def _no_arm(*frames: pd.DataFrame) -> bool:
    return not any(arm in frame.to_csv() for frame in frames for arm in UNUSUAL_ARMS)


def test_signals_compare_the_arms_for_the_dsmb_and_pool_them_for_an_investigator(views):
    by_arm = safety.safety_signals(views["dsmb"], EVERYONE)
    pooled = safety.safety_signals(views["investigator"], EVERYONE)
    assert set(by_arm.comparison["active"]) == {UNUSUAL_ARMS[0]} and set(by_arm.comparison["reference"]) == {UNUSUAL_ARMS[1]}
    assert pooled.comparison.empty and set(pooled.incidence["group"]) == {POOLED_LABEL}
    assert _no_arm(pooled.incidence, pooled.comparison) and not any(a in pooled.method for a in UNUSUAL_ARMS)
    # The pooled incidence is the sum over the arms, term by term.
    arms_sum = by_arm.incidence.groupby(["level", "soc", "term"], dropna=False, as_index=False)["n_patients"].sum()
    both = pooled.incidence.merge(arms_sum, on=["level", "soc", "term"], suffixes=("", "_arms"))
    assert len(both) == len(pooled.incidence) and (both["n_patients"] == both["n_patients_arms"]).all()


def test_one_selected_arm_gets_its_incidence_without_a_comparison(views):
    one = safety.safety_signals(views["dsmb"], SubjectFilter(arm=(UNUSUAL_ARMS[1],)))
    assert one.comparison.empty and set(one.incidence["group"]) == {UNUSUAL_ARMS[1]}


def test_term_patients_are_the_patients_with_that_term(views):
    signals = safety.safety_signals(views["dsmb"], EVERYONE)
    row = signals.comparison[signals.comparison["level"] == "term"].iloc[0]
    patients = safety.term_patients(views["dsmb"], EVERYONE, row["soc"], row["term"])
    assert len(patients) == row["n_active"] + row["n_reference"]
    assert _no_arm(safety.term_patients(views["investigator"], EVERYONE, row["soc"], row["term"]))


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_time_to_first_sae_is_the_kaplan_meier_of_the_rows(views, role):
    view = views[role]
    result = safety.time_to_first_sae(view, EVERYONE)
    rows = first_sae_times(view.adverse_event_rows(EVERYONE), view.subjects(EVERYONE), group_col=view.group_col)
    expected = km_estimate(rows, group_col=view.group_col and "group", groups=view.arms() or None)
    pd.testing.assert_frame_equal(result.km.summary, expected.summary)
    assert result.km.summary["events"].sum() > 0
    assert (result.logrank is not None) == (role == "dsmb")
    if role == "investigator":
        assert _no_arm(result.km.table.drop(columns="usubjids"), result.km.summary)


@pytest.mark.parametrize("role", ["dsmb", "investigator"])
def test_events_after_infusion_name_infusions_within_28_days(views, role):
    view = views[role]
    listing = safety.events_after_infusion(view, EVERYONE)
    assert len(listing) > 0 and listing["days_since_infusion"].between(0, 28).all()
    infusions = view.infusion_rows(EVERYONE)
    since = days_since_last_infusion(listing, infusions, day_col="study_day")
    assert since.tolist() == listing["days_since_infusion"].tolist()
    counts = safety.events_after_infusion_counts(view, EVERYONE)
    assert counts["events"].sum() >= len(listing)  # within 28 days repeats those within 7
    if role == "investigator":
        assert set(listing["group"]) == {POOLED_LABEL} and _no_arm(listing, counts)


def test_last_infusion_before_death_names_the_infusion_and_the_days(views):
    view = views["dsmb"]
    deaths = safety.death_listing(view, EVERYONE)
    last = safety.last_infusion_before_death(view, EVERYONE)
    infusions = view.infusion_rows(EVERYONE).set_index(["usubjid", "infusion_num"])["study_day"]
    known = last[last["infusion_num"].notna()]
    assert len(known) > 0
    for row, day in zip(known.itertuples(), deaths.set_index("usubjid").loc[known["usubjid"], "death_day"]):
        assert day - infusions.loc[(row.usubjid, row.infusion_num)] == row.days_since
