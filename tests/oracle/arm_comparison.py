"""Oracle of ``dashboard.domain.arm_comparison``: the arm comparison from lab rows.

``comparison_aggregates_of_rows`` reduces one lab's rows to the sufficient statistics
(``AGGREGATE_COLUMNS``) that ``data.comparison_aggregates.lab_comparison_aggregates`` computes in SQL;
``compare_arms_by_visit`` hands them to the domain module's own tail (``_comparison``), so it equals
``comparison_from_aggregates`` on the same rows.
"""

from __future__ import annotations

import pandas as pd

from dashboard.domain.arm_comparison import AGGREGATE_COLUMNS, ArmComparison, _check_arms_differ, _comparison
from dashboard.domain.checks import check_conf_level, require_columns
from dashboard.domain.labstats import add_change_from_baseline
from tests.oracle.labstats import _check_single_param, _visit_labels


def compare_arms_by_visit(df: pd.DataFrame, *, group_col: str, active: str, reference: str,
                          conf_level: float = 0.95) -> ArmComparison:
    """ANCOVA of change from baseline (chg ~ arm + base) with the Wilcoxon rank-sum test alongside,
    from the rows of one lab (``base``/``chg`` are added by ``add_change_from_baseline`` if absent);
    ``group_col`` is the arm column (a comparison needs arms, so it cannot be None). Reduces the rows to the
    sufficient statistics (:func:`comparison_aggregates_of_rows`); ``active``, ``reference``, ``conf_level``,
    the result and the method as ``comparison_from_aggregates``.
    """
    check_conf_level("compare_arms_by_visit", conf_level)
    return _comparison(comparison_aggregates_of_rows(df, group_col=group_col, active=active, reference=reference),
                       active, reference, conf_level)


def comparison_aggregates_of_rows(df: pd.DataFrame, *, group_col: str, active: str, reference: str) -> pd.DataFrame:
    """``AGGREGATE_COLUMNS`` of one lab's rows, as ``data.comparison_aggregates.lab_comparison_aggregates``
    computes them in SQL; the input of ``comparison_from_aggregates`` (see :func:`compare_arms_by_visit`)."""
    func = "compare_arms_by_visit"
    if group_col is None:
        raise ValueError(f"{func}: group_col must name the arm column; pooled data cannot be compared.")
    require_columns(func, df, ("usubjid", "visit_num", "value", group_col))
    _check_single_param(func, df)
    arms = set(df[group_col].astype(str))
    for name, arm in (("active", active), ("reference", reference)):
        if arm not in arms:
            raise ValueError(f"{func}: {name}={arm!r} is not a value of {group_col!r}; allowed: {sorted(arms)}.")
    _check_arms_differ(func, active, reference)
    compared = (df["visit_num"] > 0) & df[group_col].astype(str).isin([active, reference]) & df["value"].notna()
    if df[compared].duplicated(["usubjid", "visit_num"]).any():
        raise ValueError(f"{func}: argument 'df' has several post-baseline values for one usubjid and visit_num; "
                         "pass one value per patient and visit.")
    data = df if {"base", "chg"} <= set(df.columns) else add_change_from_baseline(
        df if "paramcd" in df.columns else df.assign(paramcd="_"))
    data = data[(data["visit_num"] > 0) & data[group_col].astype(str).isin([active, reference])]
    data = data.dropna(subset=["chg", "base"])
    return _aggregates(data, group_col, _visit_labels(df))


def _aggregates(data: pd.DataFrame, group_col: str, labels: dict[int, str]) -> pd.DataFrame:
    """``AGGREGATE_COLUMNS`` of rows with ``chg`` and ``base`` (post-baseline, the two arms only)."""
    d = pd.DataFrame({"group": data[group_col].astype(str).to_numpy(),
                      "visit_num": data["visit_num"].astype(int).to_numpy(),
                      "chg": data["chg"].to_numpy(float), "base": data["base"].to_numpy(float)})
    # Average ranks over the visit's pooled sample, as scipy rankdata inside mannwhitneyu.
    d["rank"] = d.groupby("visit_num")["chg"].rank(method="average")
    keys = ["visit_num", "group"]
    by = d.groupby(keys, sort=True)
    chg_c = d["chg"] - by["chg"].transform("mean")
    base_c = d["base"] - by["base"].transform("mean")
    d = d.assign(yy=chg_c * chg_c, bb=base_c * base_c, by=base_c * chg_c)
    out = d.groupby(keys, sort=True).agg(n=("chg", "size"), chg_mean=("chg", "mean"), base_mean=("base", "mean"),
                                         ss_base=("bb", "sum"), ss_chg=("yy", "sum"), sp_base_chg=("by", "sum"),
                                         rank_sum=("rank", "sum")).reset_index()
    t = d.groupby(["visit_num", "chg"]).size()
    tie_term = (t ** 3 - t).groupby(level="visit_num").sum()
    out["tie_term"] = out["visit_num"].map(tie_term).astype(float)
    out["visit"] = [labels.get(int(v), str(v)) for v in out["visit_num"]]
    return out[list(AGGREGATE_COLUMNS)]
