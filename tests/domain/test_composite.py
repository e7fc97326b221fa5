"""MELD with death ranked worst: worst-rank scores, Wilcoxon, rank ANCOVA and win ratio against R
(fixtures written by tests/domain/reference/composite.R: base R wilcox.test and lm, and a pair-by-pair win
ratio with the Bebu & Lachin variance written in R from the papers), plus hand cases.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dashboard.domain.composite import LEVELS, landmark_outcomes, win_ratio, worst_rank_analysis
from dashboard.errors import InsufficientData

REF = Path(__file__).parent / "reference"
TOL = 1e-6
ARMS = dict(group_col="arm", active="UC-MSC", reference="Placebo", landmark_day=84)


def reference(name: str, what: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_{what}.csv")


def patients(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (usubjid, arm, meld_baseline, meld_landmark, death_day, transplant_day, followup_day)."""
    return pd.DataFrame(rows, columns=["usubjid", "arm", "meld_baseline", "meld_landmark", "death_day",
                                       "transplant_day", "followup_day"])


@pytest.mark.parametrize("name", ["composite_small", "composite_trial"])
def test_worst_rank_scores_wilcoxon_and_rank_ancova_match_r(name):
    data, expected = reference(name, "data"), reference(name, "results").iloc[0]
    result = worst_rank_analysis(data, **ARMS)
    ranks = reference(name, "ranks").set_index("usubjid")["rank"]
    assert sorted(result.scores["usubjid"]) == sorted(ranks.index)
    np.testing.assert_allclose(result.scores.set_index("usubjid")["rank"].loc[ranks.index], ranks, atol=TOL)
    got = [result.u_statistic, result.p_wilcoxon, result.ancova_difference, result.ancova_se, result.ancova_lower,
           result.ancova_upper, result.ancova_p]
    columns = ["u", "p_wilcoxon", "ancova_difference", "ancova_se", "ancova_lower", "ancova_upper", "ancova_p"]
    np.testing.assert_allclose(got, expected[columns].to_numpy(float), rtol=0, atol=TOL)
    assert result.summary["n"].tolist() == [expected["n_active"], expected["n_reference"]]


@pytest.mark.parametrize("name", ["composite_small", "composite_trial"])
def test_win_ratio_matches_the_r_pair_by_pair_implementation(name):
    data, expected = reference(name, "data"), reference(name, "results").iloc[0]
    result = win_ratio(data, **ARMS)
    pd.testing.assert_frame_equal(result.levels, reference(name, "win_levels"), check_dtype=False)
    assert (result.wins, result.losses, result.ties) == (expected["wins"], expected["losses"], expected["ties"])
    got = [result.win_ratio, result.se_log, result.lower, result.upper, result.p]
    np.testing.assert_allclose(got, expected[["win_ratio", "se_log", "lower", "upper", "p"]].to_numpy(float),
                               rtol=0, atol=TOL)
    assert result.pairs == expected["n_active"] * expected["n_reference"]


def test_mann_whitney_u_counts_the_win_ratio_pairs():
    data = reference("composite_trial", "data")
    worst, wins = worst_rank_analysis(data, **ARMS), win_ratio(data, **ARMS)
    assert worst.u_statistic == wins.wins + wins.ties / 2
    assert worst.win_probability == pytest.approx(worst.u_statistic / wins.pairs)


def test_landmark_rule_on_the_hand_made_trial():
    outcomes, excluded = landmark_outcomes(reference("composite_small", "data"), **ARMS)
    outcome = outcomes.set_index("usubjid")["outcome"]
    assert outcome["A11"] == "death"  # died on the landmark day
    assert outcome["P04"] == "death"  # transplanted on day 20, died on day 30: death counts
    assert outcome["A09"] == "MELD change"  # died on day 120, after the landmark
    assert outcome["A12"] == "MELD change"  # transplanted on day 150
    assert outcome["A06"] == "MELD change"  # followed to exactly day 84
    assert dict(zip(excluded["usubjid"], excluded["reason"])) == {
        "A07": "alive, followed for less than 84 days", "A08": "alive without a MELD at day 84",
        "A10": "no baseline MELD", "P07": "alive, followed for less than 84 days"}


def test_note_counts_the_excluded_by_reason_and_arm():
    result = worst_rank_analysis(reference("composite_small", "data"), **ARMS)
    assert result.note == ("4 patient(s) not analysed at day 84 (alive without a MELD at day 84: 1 UC-MSC; "
                           "alive, followed for less than 84 days: 1 Placebo, 1 UC-MSC; no baseline MELD: 1 UC-MSC).")


def test_all_survivors_reduces_to_the_wilcoxon_on_meld_change():
    # MELD changes: UC-MSC -4, -2, 0, +1; Placebo -3, 0, +2. By hand, UC-MSC against Placebo (smaller
    # wins): -4 beats all 3; -2 beats 0 and +2, loses to -3; 0 beats +2, ties 0, loses to -3; +1 beats +2,
    # loses to -3 and 0: 7 wins, 4 losses, 1 tie; U = 7.5.
    base = [20, 22, 24, 26, 21, 23, 25]
    change = [-4, -2, 0, 1, -3, 0, 2]
    arm = ["UC-MSC"] * 4 + ["Placebo"] * 3
    data = patients([(f"S{i}", a, b, b + c, np.nan, np.nan, 200) for i, (a, b, c) in enumerate(zip(arm, base, change))])
    worst, wins = worst_rank_analysis(data, **ARMS), win_ratio(data, **ARMS)
    assert worst.u_statistic == 7.5
    assert (wins.wins, wins.losses, wins.ties) == (7, 4, 1) and wins.win_ratio == 1.75
    assert wins.levels.set_index("level").loc["MELD change"].tolist() == [7, 4, 1]
    # The same test as the Wilcoxon on the MELD changes themselves (whose U counts the other direction).
    on_change = stats.mannwhitneyu(change[:4], change[4:], method="asymptotic", use_continuity=True)
    assert on_change.statistic == 12 - 7.5 and worst.p_wilcoxon == pytest.approx(on_change.pvalue, abs=1e-12)
    assert worst.scores["rank"].tolist() == [7, 5, 3.5, 2, 6, 3.5, 1]


def test_all_dead_ranks_by_day_of_death():
    # UC-MSC die on days 5, 10, 20; Placebo on 5 and 8. Pairs: 5-5 tie, 5-8 loss, 10 and 20 beat both.
    days = [5, 10, 20, 5, 8]
    arm = ["UC-MSC"] * 3 + ["Placebo"] * 2
    data = patients([(f"D{i}", a, 30, np.nan, d, np.nan, d) for i, (a, d) in enumerate(zip(arm, days))])
    worst, wins = worst_rank_analysis(data, **ARMS), win_ratio(data, **ARMS)
    assert worst.scores["rank"].tolist() == [1.5, 4, 5, 1.5, 3]
    assert wins.levels.set_index("level").loc["death"].tolist() == [4, 1, 1]
    assert wins.levels.set_index("level").loc[["transplant", "MELD change"]].to_numpy().sum() == 0
    assert worst.summary["deaths"].tolist() == [3, 2]


def test_transplant_ranks_between_death_and_every_survivor():
    data = patients([("A1", "UC-MSC", 30, np.nan, np.nan, 40, 40), ("A2", "UC-MSC", 30, 45, np.nan, np.nan, 200),
                     ("P1", "Placebo", 30, np.nan, 60, np.nan, 60), ("P2", "Placebo", 30, 29, np.nan, np.nan, 200)])
    outcomes, _ = landmark_outcomes(data, **ARMS)
    order = outcomes.sort_values("order")["usubjid"].tolist()
    assert order == ["P1", "A1", "A2", "P2"]  # death, transplant, MELD +15, MELD -1
    levels = win_ratio(data, **ARMS).levels.set_index("level")
    # A1 (transplant) beats P1 (death) at death and loses to P2 at transplant; A2 beats P1, loses to P2.
    assert levels.loc["death"].tolist() == [2, 0, 0] and levels.loc["transplant"].tolist() == [0, 1, 0]
    assert levels.loc["MELD change"].tolist() == [0, 1, 0]


def test_win_ratio_without_losses_has_no_interval():
    data = patients([(f"A{i}", "UC-MSC", 25, 20, np.nan, np.nan, 200) for i in range(3)]
                    + [(f"P{i}", "Placebo", 25, np.nan, 10 + i, np.nan, 10 + i) for i in range(2)])
    result = win_ratio(data, **ARMS)
    assert (result.wins, result.losses) == (6, 0)
    assert all(math.isnan(x) for x in (result.win_ratio, result.lower, result.upper, result.p))
    assert "No losses for UC-MSC" in result.note


def test_rank_ancova_drops_a_constant_baseline_as_r_lm_does():
    # Baseline MELD equal for all: the model is rank ~ arm, i.e. the two-sample t-test on the ranks (n - 2 df).
    data = patients([(f"S{i}", a, 25, 25 + c, np.nan, np.nan, 200)
                     for i, (a, c) in enumerate(zip(["UC-MSC"] * 3 + ["Placebo"] * 3, [-5, -1, 0, 1, 2, -2]))])
    result = worst_rank_analysis(data, **ARMS)
    ranks = result.scores.set_index("usubjid")["rank"]
    a, r = ranks[["S0", "S1", "S2"]], ranks[["S3", "S4", "S5"]]
    pooled = math.sqrt(((a - a.mean()) ** 2).sum() + ((r - r.mean()) ** 2).sum()) / 2
    assert result.ancova_difference == pytest.approx(a.mean() - r.mean())
    assert result.ancova_se == pytest.approx(pooled * math.sqrt(2 / 3))


def test_bad_input_is_refused_with_a_message():
    data = reference("composite_small", "data")
    with pytest.raises(ValueError, match="must differ"):
        win_ratio(data, **{**ARMS, "reference": "UC-MSC"})
    with pytest.raises(ValueError, match="landmark_day"):
        worst_rank_analysis(data, **{**ARMS, "landmark_day": 0})
    with pytest.raises(ValueError, match="followup_day"):
        worst_rank_analysis(data.drop(columns="followup_day"), **ARMS)
    with pytest.raises(ValueError, match="missing followup_day"):
        worst_rank_analysis(data.assign(followup_day=np.nan), **ARMS)
    with pytest.raises(ValueError, match="one row per patient"):
        win_ratio(pd.concat([data, data.head(1)]), **ARMS)
    with pytest.raises(ValueError, match="conf_level"):
        win_ratio(data, **ARMS, conf_level=1.5)
    with pytest.raises(InsufficientData, match="Placebo"):
        win_ratio(data[data["usubjid"].isin(["A04", "A05", "P05"])], **ARMS)


def test_method_texts_cite_their_sources_and_the_rule():
    data = reference("composite_small", "data")
    worst, wins = worst_rank_analysis(data, **ARMS), win_ratio(data, **ARMS)
    assert "Lachin 1999" in worst.method and "rank ANCOVA" in worst.method and "day 84" in worst.method
    assert "Pocock 2012" in wins.method and "Bebu & Lachin 2016" in wins.method
    assert tuple(wins.levels["level"]) == LEVELS
