"""The DSMB charter: parsing and every validation rule with its message, and the safety rules' counting on
hand-built events (days 0, 7 and 8 after an infusion; per arm and pooled; a death counted once)."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from importlib import resources

import pandas as pd
import pytest

from dashboard.domain.charter import (
    Charter,
    CharterError,
    Futility,
    SafetyRule,
    charter_summary,
    days_since_last_infusion,
    evaluate_safety_rules,
    parse_charter,
    safety_events,
)
from dashboard.errors import DashboardError

GOOD = """\
[charter]
version = "1.0"
title = "Test charter"
approved_on = 2024-02-20

[primary]
endpoint = "os"
design_hazard_ratio = 0.55
allocation_ratio = 2.5
planned_events = 24
information_fractions = [0.5, 0.75, 1.0]

[efficacy]
sides = 1
alpha = 0.025
spending = "obf"

[futility]
rule = "conditional_power"
threshold = 0.10
binding = false

[[safety_rules]]
id = "early-deaths"
description = "Pause enrolment if 3 or more deaths occur within 7 days of an infusion in either arm"
event = "death"
within_days_of_infusion = 7
threshold = 3
scope = "each_arm"
action = "Pause enrolment and convene the DSMB"
"""


def edited(text: str = GOOD, **lines: str | None) -> str:
    """``text`` with the line ``key = ...`` of each keyword replaced by ``key = value`` (None: removed).
    A key appearing in several tables is named ``table__key``; only the first occurrence after the table
    header is changed."""
    for name, value in lines.items():
        table, _, key = name.rpartition("__")
        start = text.index(f"[{table}]") if table else 0
        m = re.compile(rf"^{key} = .*$\n?", re.M).search(text, start)
        assert m, name
        text = text[:m.start()] + (f"{key} = {value}\n" if value is not None else "") + text[m.end():]
    return text


def problems(text: str) -> list[str]:
    with pytest.raises(CharterError) as caught:
        parse_charter(text, "charter.toml")
    return list(caught.value.problems)


def test_a_good_charter_is_parsed_into_frozen_values():
    charter = parse_charter(GOOD, "charter.toml")
    assert isinstance(charter, Charter)
    assert (charter.version, charter.title, charter.approved_on) == ("1.0", "Test charter", date(2024, 2, 20))
    assert (charter.endpoint, charter.design_hazard_ratio, charter.allocation_ratio) == ("os", 0.55, 2.5)
    assert charter.planned_events == 24 and charter.information_fractions == (0.5, 0.75, 1.0)
    assert charter.planned_looks_events == (12, 18, 24)
    assert (charter.sides, charter.alpha, charter.spending, charter.gamma) == (1, 0.025, "obf", None)
    assert charter.futility == Futility("conditional_power", None, None, None, 0.10)
    assert charter.safety_rules == (SafetyRule("early-deaths", "Pause enrolment if 3 or more deaths occur within 7 "
                                               "days of an infusion in either arm", "death", 3, "each_arm", 7, None,
                                               "Pause enrolment and convene the DSMB"),)
    assert charter.text == GOOD and charter.sha256 == hashlib.sha256(GOOD.encode()).hexdigest()
    with pytest.raises(AttributeError):
        charter.alpha = 0.05  # type: ignore[misc]


def test_optional_parts_may_be_left_out():
    text = edited(charter__approved_on=None)
    text = text[:text.index("[futility]")]
    charter = parse_charter(text)
    assert charter.approved_on is None and charter.futility is None and charter.safety_rules == ()


def test_hsd_spending_needs_gamma_and_beta_spending_futility_is_read():
    text = edited(efficacy__spending='"hsd"').replace('spending = "hsd"\n', 'spending = "hsd"\ngamma = -4\n', 1)
    text = text.replace('rule = "conditional_power"\nthreshold = 0.10\n',
                        'rule = "beta_spending"\nbeta = 0.2\nspending = "hsd"\ngamma = -2\n')
    charter = parse_charter(text)
    assert (charter.spending, charter.gamma) == ("hsd", -4.0)
    assert charter.futility == Futility("beta_spending", 0.2, "hsd", -2.0, None)


def test_the_error_is_a_dashboard_error_and_a_value_error_listing_every_problem_one_per_line():
    text = edited(efficacy__alpha="1.2", primary__design_hazard_ratio="1", primary__planned_events="1")
    with pytest.raises(CharterError) as caught:
        parse_charter(text, "charter.toml")
    assert isinstance(caught.value, DashboardError) and isinstance(caught.value, ValueError)
    assert str(caught.value).splitlines() == list(caught.value.problems)
    assert "charter.toml: efficacy.alpha: must be between 0 and 0.5 (got 1.2)" in caught.value.problems
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("change, message", [
    # types and ranges of the efficacy boundary
    ({"efficacy__alpha": "1.2"}, "efficacy.alpha: must be between 0 and 0.5 (got 1.2)"),
    ({"efficacy__alpha": "0"}, "efficacy.alpha: must be between 0 and 0.5 (got 0)"),
    ({"efficacy__alpha": "0.5"}, "efficacy.alpha: must be between 0 and 0.5 (got 0.5)"),
    ({"efficacy__alpha": '"0.025"'}, 'efficacy.alpha: must be a number (got "0.025")'),
    ({"efficacy__alpha": "nan"}, "efficacy.alpha: must be a number (got nan)"),
    ({"efficacy__alpha": None}, "efficacy.alpha: required (got nothing)"),
    ({"efficacy__sides": "3"}, "efficacy.sides: must be 1 or 2 (got 3)"),
    ({"efficacy__sides": "true"}, "efficacy.sides: must be 1 or 2 (got true)"),
    ({"efficacy__spending": '"obk"'}, 'efficacy.spending: must be one of "obf", "pocock", "hsd" (got "obk")'),
    ({"efficacy__spending": '"hsd"'}, "efficacy.gamma: required (got nothing)"),
    # the primary endpoint's design
    ({"primary__endpoint": '"cr"'}, 'primary.endpoint: must be one of "os", "tfs" (got "cr")'),
    ({"primary__design_hazard_ratio": "1"}, "primary.design_hazard_ratio: must be above 0 and not 1"),
    ({"primary__design_hazard_ratio": "-0.5"}, "primary.design_hazard_ratio: must be above 0 and not 1"),
    ({"primary__design_hazard_ratio": "0"}, "primary.design_hazard_ratio: must be above 0 and not 1 (a design with "
                                            "no effect to detect) (got 0)"),
    ({"primary__allocation_ratio": "0"}, "primary.allocation_ratio: must be above 0 (got 0)"),
    ({"primary__planned_events": "1"}, "primary.planned_events: must be at least 2 (got 1)"),
    ({"primary__planned_events": "24.0"}, "primary.planned_events: must be a whole number (got 24.0)"),
    ({"primary__information_fractions": "[]"}, "primary.information_fractions: must be a list of at least one look"),
    ({"primary__information_fractions": "0.5"}, "primary.information_fractions: must be a list of at least one look"),
    ({"primary__information_fractions": "[0.75, 0.5, 1.0]"}, "primary.information_fractions: must be strictly increasing"),
    ({"primary__information_fractions": "[0.5, 0.5, 1.0]"}, "primary.information_fractions: must be strictly increasing"),
    ({"primary__information_fractions": "[0.5, 0.75]"},
     "primary.information_fractions: the last look must be at 1 (the final analysis) (got [0.5, 0.75])"),
    ({"primary__information_fractions": "[0, 1.0]"}, "primary.information_fractions: every fraction must be above 0"),
    ({"primary__information_fractions": "[0.5, 1.5]"}, "primary.information_fractions: every fraction must be above 0"),
    ({"primary__information_fractions": '["half", 1.0]'}, "primary.information_fractions: must hold numbers only"),
    # the charter's own table
    ({"charter__version": "1"}, "charter.version: must be non-empty text (got 1)"),
    ({"charter__title": '""'}, 'charter.title: must be non-empty text (got "")'),
    ({"charter__approved_on": '"2024-02-20"'}, 'charter.approved_on: must be a TOML date such as 2024-02-20 (unquoted) '
                                               '(got "2024-02-20")'),
    ({"charter__approved_on": "2024-02-20T10:00:00"}, "charter.approved_on: must be a TOML date"),
    # futility: non-binding only, and the fields of its rule
    ({"futility__binding": "true"}, "futility.binding: the dashboard computes non-binding futility only"),
    ({"futility__binding": '"no"'}, 'futility.binding: must be true or false (got "no")'),
    ({"futility__threshold": "1"}, "futility.threshold: must be between 0 and 1 (got 1)"),
    ({"futility__threshold": "0"}, "futility.threshold: must be between 0 and 1 (got 0)"),
    ({"futility__threshold": None}, "futility.threshold: required (got nothing)"),
    ({"futility__rule": '"beta_spending"'}, "futility.beta: required (got nothing)"),
    ({"futility__rule": '"bayes"'}, 'futility.rule: must be one of "beta_spending", "conditional_power" (got "bayes")'),
    # safety rules
    ({"safety_rules__threshold": "0"}, "safety_rules[1].threshold: must be at least 1 (got 0)"),
    ({"safety_rules__threshold": "2.5"}, "safety_rules[1].threshold: must be a whole number (got 2.5)"),
    ({"safety_rules__event": '"deaths"'}, 'safety_rules[1].event: must be one of "death", "serious_adverse_event", '
                                          '"adverse_event", "infusion_reaction" (got "deaths")'),
    ({"safety_rules__scope": '"either_arm"'}, 'safety_rules[1].scope: must be one of "each_arm", "pooled" '
                                              '(got "either_arm")'),
    ({"safety_rules__within_days_of_infusion": "-1"}, "safety_rules[1].within_days_of_infusion: must be at least 0 "
                                                      "(got -1)"),
    ({"safety_rules__action": None}, "safety_rules[1].action: required (got nothing)"),
    ({"safety_rules__id": '" "'}, 'safety_rules[1].id: must be non-empty text (got " ")'),
])
def test_each_invalid_value_is_refused_with_its_field_reason_and_value(change, message):
    found = problems(edited(**change))
    assert any(p.startswith(f"charter.toml: {message}") for p in found), found


def test_a_typo_in_a_key_is_refused_with_the_allowed_keys():
    found = problems(GOOD.replace("alpha = 0.025", "alpah = 0.025"))
    assert "charter.toml: efficacy.alpah: unknown key; allowed keys: sides, alpha, spending, gamma (got 0.025)" in found
    assert "charter.toml: efficacy.alpha: required (got nothing)" in found
    assert problems(GOOD + "\n[extra]\nx = 1\n") == [
        "charter.toml: extra: unknown key; allowed keys: charter, primary, efficacy, futility, safety_rules "
        "(got a table {x = 1})"]
    assert problems(GOOD.replace('scope = "each_arm"', 'scope = "each_arm"\nwithin_day = 7'))[0].startswith(
        "charter.toml: safety_rules[1].within_day: unknown key; allowed keys: id, description, event,")


def test_gamma_only_with_hsd_and_futility_fields_only_with_their_rule():
    assert 'charter.toml: efficacy.gamma: only for spending = "hsd" (got -4)' in problems(
        GOOD.replace('spending = "obf"', 'spending = "obf"\ngamma = -4'))
    hsd = GOOD.replace('spending = "obf"', 'spending = "hsd"\ngamma = {}')
    assert "charter.toml: efficacy.gamma: must be between -10 and 10 inclusive (got 12)" in problems(hsd.format(12))
    assert 'charter.toml: efficacy.gamma: must be a number (got "-4")' in problems(hsd.format('"-4"'))
    parse_charter(hsd.format(-10)), parse_charter(hsd.format(10))
    found = problems(GOOD.replace("threshold = 0.10", "threshold = 0.10\nbeta = 0.2"))
    assert 'charter.toml: futility.beta: only for rule = "beta_spending" (got 0.2)' in found
    beta = GOOD.replace('rule = "conditional_power"\nthreshold = 0.10', 'rule = "beta_spending"\nbeta = {}\n'
                        'spending = "obf"\nthreshold = 0.1')
    found = problems(beta.format(0.5))
    assert "charter.toml: futility.beta: must be between 0 and 0.5 (got 0.5)" in found
    assert 'charter.toml: futility.threshold: only for rule = "conditional_power" (got 0.1)' in found


def test_binding_futility_is_refused_with_the_reason():
    [message] = problems(edited(futility__binding="true"))
    assert message.startswith("charter.toml: futility.binding: the dashboard computes non-binding futility only ")
    assert message.endswith("(got true)")


def test_safety_rule_ids_are_unique_and_min_grade_is_for_adverse_events_only():
    second = GOOD[GOOD.index("[[safety_rules]]"):]
    assert 'charter.toml: safety_rules[2].id: must be unique among the safety rules (got "early-deaths")' in problems(
        GOOD + "\n" + second)
    assert "charter.toml: safety_rules[1].min_grade: only for adverse-event kinds (a death has no grade) (got 4)" in \
        problems(GOOD.replace('event = "death"', 'event = "death"\nmin_grade = 4'))
    sae = GOOD.replace('event = "death"', 'event = "serious_adverse_event"\nmin_grade = {}')
    assert parse_charter(sae.format(4)).safety_rules[0].min_grade == 4
    assert "charter.toml: safety_rules[1].min_grade: must be between 1 and 5 (got 6)" in problems(sae.format(6))
    assert "charter.toml: safety_rules[1].min_grade: must be between 1 and 5 (got 0)" in problems(sae.format(0))
    assert problems(GOOD.replace("[[safety_rules]]", "[safety_rules]")) == [
        "charter.toml: safety_rules: must be an array of tables, [[safety_rules]] (got a table {id = \"early-deaths\", "
        "description = \"Pause enrolment if 3 or more deaths occur within 7 days of an infusion in either arm\", "
        "event = \"death\", within_days_of_infusion = 7, threshold = 3, scope = \"each_arm\", "
        "action = \"Pause enrolment and convene the DSMB\"})"]


def test_missing_tables_and_bad_toml_are_named():
    found = problems("[charter]\nversion = \"1\"\ntitle = \"t\"\n")
    assert found == ["charter.toml: primary: required table [primary] is missing (got nothing)",
                     "charter.toml: efficacy: required table [efficacy] is missing (got nothing)"]
    [syntax] = problems("[charter\nversion = 1")
    assert syntax.startswith("charter.toml: (file): not valid TOML: ")
    assert problems('primary = 3\n[charter]\nversion = "1"\ntitle = "t"\n[efficacy]\nsides = 1\nalpha = 0.025\n'
                    'spending = "obf"\n') == ["charter.toml: primary: must be a table, [primary] (got 3)"]


def test_the_shipped_demo_charter_is_valid_and_states_the_trials_design():
    text = resources.files("dashboard.data").joinpath("demo_charter.toml").read_text()
    charter = parse_charter(text, "demo_charter.toml")
    assert (charter.endpoint, charter.design_hazard_ratio, charter.allocation_ratio, charter.planned_events) == \
        ("os", 0.55, 2.5, 24)
    assert (charter.sides, charter.alpha, charter.spending) == (1, 0.025, "obf")
    assert charter.information_fractions == (0.5, 0.75, 1.0)
    assert charter.futility == Futility("conditional_power", threshold=0.10)
    rules = {r.id: r for r in charter.safety_rules}
    assert [(r.event, r.threshold, r.scope, r.within_days_of_infusion, r.min_grade) for r in rules.values()] == [
        ("death", 3, "each_arm", 7, None), ("serious_adverse_event", 4, "each_arm", 7, 4),
        ("infusion_reaction", 10, "pooled", None, None)]
    assert "108" in text  # Schoenfeld's number of deaths for 80% power, stated beside planned_events
    summary = dict(charter_summary(charter).itertuples(index=False))
    assert summary["Looks (information fraction: events)"] == "0.5: 12, 0.75: 18, 1: 24"
    assert summary["Futility"] == "non-binding: conditional power under the design HR below 0.1"
    assert summary["Safety rule 3"].startswith("infusion-reactions: 10 or more infusion reactions over all patients")


# --- safety rules on hand-built events -----------------------------------------------------------------

def rule(event: str = "death", threshold: int = 2, scope: str = "each_arm", within: int | None = 7,
         min_grade: int | None = None) -> SafetyRule:
    return SafetyRule("r", "d", event, threshold, scope, within, min_grade, "act")


def events(*rows: tuple) -> pd.DataFrame:
    """(usubjid, kind, grade, days_since_infusion, arm) rows."""
    frame = pd.DataFrame(rows, columns=["usubjid", "kind", "grade", "days_since_infusion", "arm"])
    return frame.astype({"grade": "Int64", "days_since_infusion": "Int64"})


def test_within_n_days_means_0_to_n_days_after_the_infusion():
    ev = events(("P1", "death", None, 0, "A"), ("P2", "death", None, 7, "A"), ("P3", "death", None, 8, "A"),
                ("P4", "death", None, None, "A"), ("P5", "death", None, -1, "A"))
    [result] = evaluate_safety_rules([rule(threshold=2)], ev, "arm", arms=("A", "B"))
    assert result.counts == {"A": 2, "B": 0} and result.patients == ("P1", "P2") and result.met
    [result] = evaluate_safety_rules([rule(threshold=3)], ev, "arm", arms=("A", "B"))
    assert not result.met
    [no_window] = evaluate_safety_rules([rule(within=None, threshold=5)], ev, "arm")
    assert no_window.counts == {"A": 5} and no_window.met


def test_each_arm_is_met_when_any_arm_reaches_the_threshold_and_pooled_counts_all_patients():
    ev = events(("P1", "death", None, 1, "A"), ("P2", "death", None, 2, "A"), ("P3", "death", None, 3, "B"))
    each, pooled = evaluate_safety_rules([rule(threshold=2), rule(threshold=3, scope="pooled")], ev, "arm",
                                         arms=("A", "B"))
    assert each.counts == {"A": 2, "B": 1} and each.met
    assert pooled.counts == {"All patients": 3} and pooled.met
    [each] = evaluate_safety_rules([rule(threshold=3)], ev, "arm", arms=("A", "B"))
    assert each.counts == {"A": 2, "B": 1} and not each.met  # 3 deaths in all, but not 3 in either arm


def test_a_blinded_view_counts_every_rule_pooled():
    ev = events(("P1", "death", None, 1, "A"), ("P2", "death", None, 2, "A"),
                ("P3", "death", None, 3, "B")).drop(columns="arm")
    [result] = evaluate_safety_rules([rule(threshold=3)], ev, None)
    assert result.counts == {"All patients": 3} and result.met and result.patients == ("P1", "P2", "P3")
    with pytest.raises(ValueError, match="group_col"):
        evaluate_safety_rules([rule()], ev, "arm")


def test_a_death_counts_once_per_patient_other_events_each_time():
    ev = events(("P1", "death", None, 2, "A"), ("P1", "death", None, 2, "A"),
                ("P1", "serious_adverse_event", 4, 2, "A"), ("P1", "serious_adverse_event", 4, 3, "A"))
    death, sae = evaluate_safety_rules([rule(threshold=2), rule("serious_adverse_event", threshold=2)], ev, "arm")
    assert death.counts == {"A": 1} and not death.met
    assert sae.counts == {"A": 2} and sae.met and sae.patients == ("P1",)


def test_min_grade_counts_that_grade_or_worse_and_kinds_are_kept_apart():
    ev = events(("P1", "adverse_event", 3, 1, "A"), ("P2", "adverse_event", 4, 1, "A"),
                ("P3", "adverse_event", 5, 1, "A"), ("P4", "adverse_event", None, 1, "A"),
                ("P5", "infusion_reaction", 5, 0, "A"))
    [result] = evaluate_safety_rules([rule("adverse_event", min_grade=4, threshold=1)], ev, "arm")
    assert result.counts == {"A": 2} and result.patients == ("P2", "P3")
    with pytest.raises(ValueError, match="kind"):
        evaluate_safety_rules([rule()], events(("P1", "fall", None, 1, "A")), "arm")


def test_safety_events_derive_days_since_the_last_infusion_on_or_before_the_event():
    subjects = pd.DataFrame({"usubjid": ["P1", "P2", "P3"], "arm": ["A", "B", "A"],
                             "day1_on": pd.to_datetime(["2024-01-01"] * 3),
                             "death_on": pd.to_datetime(["2024-01-08", None, "2024-01-31"])})
    infusions = pd.DataFrame({"usubjid": ["P1", "P2", "P2", "P3", "P3"], "study_day": [1, 1, 29, 1, 29]})
    ae = pd.DataFrame({"usubjid": ["P2", "P2", "P2"], "onset_day": [29, 36, 37], "grade": [4, 2, 3],
                       "serious": [True, False, True], "infusion_related": [True, False, False]})
    out = safety_events(subjects, infusions, ae, group_col="arm")
    assert list(out.columns) == ["usubjid", "kind", "grade", "days_since_infusion", "arm"]
    got = {(r.usubjid, r.kind, r.days_since_infusion, r.arm) for r in out.itertuples()}
    assert got == {
        ("P1", "death", 7, "A"),  # died on day 8, infused on day 1
        ("P3", "death", 2, "A"),  # died on day 31, last infused on day 29
        ("P2", "adverse_event", 0, "B"), ("P2", "adverse_event", 7, "B"), ("P2", "adverse_event", 8, "B"),
        ("P2", "serious_adverse_event", 0, "B"), ("P2", "serious_adverse_event", 8, "B"),
        ("P2", "infusion_reaction", 0, "B"),
    }
    assert out.loc[out["kind"] == "death", "grade"].isna().all()
    pooled = safety_events(subjects.drop(columns="arm"), infusions, ae)
    assert "arm" not in pooled.columns and len(pooled) == len(out)


def test_an_event_before_any_infusion_has_no_days_since_infusion():
    ev = pd.DataFrame({"usubjid": ["P1", "P1", "P2"], "study_day": [-3, 5, 4]})
    got = days_since_last_infusion(ev, pd.DataFrame({"usubjid": ["P1"], "study_day": [1]}))
    assert got.tolist() == [pd.NA, 4, pd.NA]
