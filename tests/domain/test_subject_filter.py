"""The global filter round-trips through the URL and compiles to parameterised SQL."""

import pytest

from dashboard.data.filters import subject_where
from dashboard.domain.subject_filter import SubjectFilter


def test_filter_round_trips_through_query_params():
    f = SubjectFilter(site=("S01", "S02"), sex=("F",), age_min=30, meld_max=25.5, id_search="0012")
    assert f.to_query_params() == {"site": "S01,S02", "sex": "F", "age_min": "30", "meld_max": "25.5", "q": "0012"}
    assert SubjectFilter.from_query_params(f.to_query_params()) == f


def test_bad_url_values_are_dropped_with_notes():
    f = SubjectFilter.from_query_params({"site": "S01,S99", "age_min": "old", "arm": "UC-MSC"},
                                        allowed={"site": ("S01", "S02")}, allow_arm=False)
    assert f == SubjectFilter(site=("S01",))
    assert len(f.notes) == 3 and any("blinded" in n for n in f.notes)


@pytest.mark.parametrize("f, sql, params", [
    (SubjectFilter(), "TRUE", {}),
    (SubjectFilter(sex=("F",)), "s.sex IN (SELECT unnest($sex))", {"sex": ["F"]}),
    (SubjectFilter(age_min=30, age_max=50), "s.age >= $age_min AND s.age <= $age_max", {"age_min": 30, "age_max": 50}),
    (SubjectFilter(meld_min=20.0), "s.baseline_meld >= $meld_min", {"meld_min": 20.0}),
    (SubjectFilter(id_search="x'; DROP"), "contains(lower(s.usubjid), lower($id_search))", {"id_search": "x'; DROP"}),
])
def test_subject_where_uses_parameters_never_formatted_values(f, sql, params):
    assert subject_where(f) == (sql, params)


def test_describe_names_the_population_in_words():
    assert SubjectFilter().describe() == "All randomised patients"
    assert SubjectFilter(sex=("F",), age_min=40).describe() == "Patients with sex = F; age 40-"
