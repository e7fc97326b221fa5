"""/safety under AppTest: the DSMB sees both arms, the fever risk difference and the safety signals (volcano,
comparison, patients behind a term); a blinded investigator sees every section pooled, with no arm name anywhere
(element text, dataframes, chart specs) and no comparison."""

import pytest

from dashboard.domain import POOLED_LABEL
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/safety.py"
SECTIONS = ("Temperature 0-24 h", "Fever", "Rash and allergy", "Reaction listing", "AE overview",
            "AEs by SOC and term", "AEs by worst grade", "Rates per 100 patient-years", "SAEs and deaths",
            "Safety signals", "Time to first SAE", "Events after infusion")


@pytest.fixture
def unusual_env(app_env, monkeypatch, unusual_arms_db):
    monkeypatch.setenv("DASHBOARD_DB", str(unusual_arms_db))
    return unusual_arms_db


def open_section(role: str, section: str):
    at = run_page(PAGE, role)
    at.button_group(key="safety_section").set_value(section).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_text(at) -> str:
    """Every column name and cell of every dataframe on the page."""
    return " ".join(" ".join(map(str, d.value.columns)) + " " + d.value.astype(str).to_string() for d in at.dataframe)


def test_the_page_offers_exactly_the_sections_this_test_covers(unusual_env):
    at = run_page(PAGE, "investigator")
    assert tuple(at.button_group(key="safety_section").options) == SECTIONS


def test_dsmb_sees_both_arms_and_the_fever_risk_difference_table(unusual_env):
    at = open_section("dsmb", "Fever")
    assert "Risk difference between arms" in [h.value for h in at.subheader]
    rd = next(d.value for d in at.dataframe if "risk_difference" in d.value.columns)
    active, control = UNUSUAL_ARMS
    assert set(rd["active"]) == {active} and set(rd["reference"]) == {control}
    assert set(rd["threshold"]) == {37.3, 38.0}
    assert {"infusion", "patient"} <= set(rd["unit"])
    assert rd[["rd_lower", "rd_upper", "p"]].notna().all().all()


@pytest.mark.parametrize("section", ["Temperature 0-24 h", "AE overview", "AEs by SOC and term"])
def test_dsmb_sees_both_arm_names_in_the_section(unusual_env, section):
    text = table_text(open_section("dsmb", section))
    assert all(arm in text for arm in UNUSUAL_ARMS)
    assert POOLED_LABEL not in text


@pytest.mark.parametrize("section", SECTIONS)
def test_investigator_sees_the_section_pooled_with_no_arm_name_anywhere(unusual_env, section):
    at = open_section("investigator", section)
    sent, text = sent_bytes(at), table_text(at)
    for arm in UNUSUAL_ARMS:
        assert arm.encode() not in sent, f"{section} sent arm name {arm!r} to an investigator"
        assert arm not in text
    assert "Risk difference between arms" not in [h.value for h in at.subheader]
    for df in (d.value for d in at.dataframe):
        assert "arm" not in df.columns and not {"active", "reference", "product"} & set(df.columns)
        if "group" in df.columns:
            assert set(df["group"]) <= {POOLED_LABEL}
        wide = [c for c in df.columns if " · " in c]
        assert all(c.startswith(f"{POOLED_LABEL} · ") for c in wide)


# ---------------------------------------------------------------- safety signals, first SAE, events after infusion


def _frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_dsmb_sees_the_volcano_and_the_comparison_per_term(unusual_env):
    at = open_section("dsmb", "Safety signals")
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 1 and '"System organ class"' in charts[0].proto.spec
    table = _frame_with(at, "p (Fisher)")
    active, control = UNUSUAL_ARMS
    assert {f"{active} · patients", f"{control} · patients", "RD, points", "RR", "p BH", "flag: double FDR"} <= \
        set(table.columns)
    assert table["p (Fisher)"].between(0, 1).all() and table["p BH"].dropna().ge(table["p (Fisher)"].dropna()
                                                                                   .loc[table["p BH"].notna()]).all()
    assert any("Mehrotra and Heyse" in c.value for c in at.caption)


def test_picking_a_term_lists_its_patients(unusual_env):
    at = open_section("dsmb", "Safety signals")
    picker = at.selectbox(key="safety_signal_term")
    assert picker.value is None
    term = picker.options[0]
    at = picker.select(term).run()
    assert not at.exception, [e.value for e in at.exception]
    patients = _frame_with(at, "n_events")
    table = _frame_with(at, "p (Fisher)")
    row = table[table["PT"] + " (" + table["SOC"] + ")" == term].iloc[0]
    assert len(patients) == row[f"{UNUSUAL_ARMS[0]} · patients"] + row[f"{UNUSUAL_ARMS[1]} · patients"] > 0
    assert patients["usubjid"].is_unique and set(patients["group"]) <= set(UNUSUAL_ARMS)
    assert any("Select a row to open the patient's profile" in c.value for c in at.caption), term


def test_investigator_sees_pooled_incidence_and_no_volcano(unusual_env):
    at = open_section("investigator", "Safety signals")
    assert not at.get("plotly_chart")
    table = _frame_with(at, f"{POOLED_LABEL} · patients")
    assert "p (Fisher)" not in table.columns
    # Small cells: pooled counts of 1-4 patients are written "<5" (domain/disclosure.py).
    assert "<5" in set(table[f"{POOLED_LABEL} · patients"].astype(str))
    assert any("DSMB only" in c.value for c in at.caption)


def test_time_to_first_sae_by_arm_for_the_dsmb_pooled_for_an_investigator(unusual_env):
    dsmb = open_section("dsmb", "Time to first SAE")
    assert set(_frame_with(dsmb, "median")["group"]) == set(UNUSUAL_ARMS)
    assert any("Log-rank" in m.value for m in dsmb.markdown)
    inv = open_section("investigator", "Time to first SAE")
    assert set(_frame_with(inv, "median")["group"]) == {POOLED_LABEL}
    assert not any("Log-rank" in m.value for m in inv.markdown)


def test_events_after_infusion_list_the_infusion_and_the_days_since(unusual_env):
    at = open_section("dsmb", "Events after infusion")
    listing = _frame_with(at, "days_since_infusion")
    assert len(listing) > 0 and listing["days_since_infusion"].between(0, 28).all()
    assert listing["infusion_num"].notna().all() and set(listing["window"]) <= {"0-7 days", "8-28 days"}
    assert {f"{arm} · patients" for arm in UNUSUAL_ARMS} <= set(_frame_with(at, "within").columns)


def test_rates_say_the_time_at_risk_ends_at_the_first_event(unusual_env):
    at = open_section("dsmb", "Rates per 100 patient-years")
    assert any("ends at their first event" in m.value for m in at.markdown)
    rates = _frame_with(at, "eair")
    assert (rates["years_at_risk"] <= rates["years_followed"]).all()


def test_blinded_rates_of_a_small_count_are_hidden_with_it(unusual_env):
    at = run_page(PAGE, "investigator", {"sex": "F"})  # few women: some categories have 1-4 patients
    at.button_group(key="safety_section").set_value("Rates per 100 patient-years").run()
    assert not at.exception, [e.value for e in at.exception]
    rates = _frame_with(at, "eair")
    small = rates["n_patients"].astype(str) == "<5"
    # Rate x years at risk would give the hidden count back: the rate and its CI read "<5" with it.
    assert small.any() and (rates.loc[small, ["eair", "eair_lower", "eair_upper"]] == "<5").all().all()
    assert (rates.loc[~small, "eair"] != "<5").all()
