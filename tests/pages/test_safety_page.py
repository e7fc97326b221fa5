"""/safety under AppTest: the DSMB sees both arms and the fever risk difference; a blinded investigator
sees every section pooled, with no arm name anywhere (element text, dataframes, chart specs)."""

import pytest

from dashboard.domain import POOLED_LABEL
from tests.conftest import UNUSUAL_ARMS
from tests.pages.apptest_helpers import run_page, sent_bytes

PAGE = "pages/safety.py"
SECTIONS = ("Temperature 0-24 h", "Fever", "Rash and allergy", "Reaction listing", "AE overview",
            "AEs by SOC and term", "AEs by worst grade", "Rates per 100 patient-years", "SAEs and deaths")


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
