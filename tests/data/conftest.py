"""Fixtures of the tests that compare a DuckDB aggregate with the pandas function it stands in for."""

import pytest

from tests.conftest import connect_unblinded


@pytest.fixture(scope="module")
def demo_con(trial_db):
    with connect_unblinded(trial_db) as c:
        yield c


@pytest.fixture(params=[True, False], ids=["by arm", "pooled"])
def include_arm(request) -> bool:
    """Both ways a query runs: for a viewer who may see arms, and pooled (blinded)."""
    return request.param
