"""The signed two-arm log-rank statistic against R survdiff (fixtures of tests/domain/reference/lung.R and
demo_os.R): its square is survdiff's chi-square, its sign says which arm has fewer events than expected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard.domain.cox import logrank_z
from dashboard.errors import InsufficientData

REF = Path(__file__).parent / "reference"


@pytest.mark.parametrize("name, experimental, control", [("lung", "Female", "Male"), ("demo_os", "UC-MSC", "Placebo")])
def test_square_is_survdiff_chi_square(name, experimental, control):
    data = pd.read_csv(REF / f"{name}_data.csv")
    chi2 = pd.read_csv(REF / f"{name}_logrank.csv")["chi2"].iloc[0]
    statistic = logrank_z(data, group_col="arm", experimental=experimental, control=control)
    assert statistic.z ** 2 == pytest.approx(chi2, abs=1e-9)
    assert statistic.events == int(data["event"].sum())
    assert statistic.observed == data.loc[data["arm"] == experimental, "event"].sum()
    swapped = logrank_z(data, group_col="arm", experimental=control, control=experimental)
    assert swapped.z == pytest.approx(-statistic.z, abs=1e-12)


def test_sign_favours_the_arm_with_fewer_deaths_than_expected():
    """R survdiff(Surv(time, status) ~ sex, lung): female O = 53, E = 73.4 (the survival package's example)."""
    data = pd.read_csv(REF / "lung_data.csv")
    statistic = logrank_z(data, group_col="arm", experimental="Female", control="Male")
    assert statistic.observed == 53
    assert statistic.expected == pytest.approx(73.4, abs=0.05)
    assert statistic.z > 0


def test_needs_an_event():
    data = pd.DataFrame({"usubjid": ["a", "b"], "time_days": [5.0, 6.0], "event": [0, 0], "arm": ["A", "B"]})
    with pytest.raises(InsufficientData):
        logrank_z(data, group_col="arm", experimental="A", control="B")
