"""queries.subject_ids: the ids of the filtered list, in the same order as queries.subjects (prev/next on /patient)."""

import pytest

from dashboard.data import queries
from dashboard.domain.subject_filter import SubjectFilter
from tests.conftest import connect_unblinded


@pytest.mark.parametrize("f", [SubjectFilter(), SubjectFilter(sex=("F",)), SubjectFilter(id_search="MSC-001"),
                               SubjectFilter(id_search="no such patient")])
def test_subject_ids_equal_the_subjects_rows_in_order(trial_db, f):
    with connect_unblinded(trial_db) as con:
        assert queries.subject_ids(con, f) == tuple(queries.subjects(con, f, False)["usubjid"])
