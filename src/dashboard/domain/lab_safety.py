"""Domain layer: lab safety by reference range and liver injury: shift tables (baseline vs worst
post-baseline category, CTCAE grades or reference limits) and the mDISH plot of peak ALT and bilirubin after
baseline as multiples of baseline (eDISH's multiples of ULN mean nothing in liver failure: :data:`WHY_MDISH`).

Both from aggregates computed in DuckDB (``data.shift_aggregates``, ``data.lab_aggregates``), with the
same rules as :mod:`dashboard.domain.labstats` (a pooled result has the one group ``POOLED_LABEL``; arms are
never relabelled). Their pandas versions on lab rows are the test oracle ``tests.oracle.lab_safety``, which
ends in the same private tails (``_shift_grid``, ``_dish``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain import POOLED_LABEL
from dashboard.domain.checks import check_group_col, require_columns
from dashboard.domain.deviations import ENTRY_CRITERIA
from dashboard.domain.labs import describe
from dashboard.errors import UnsuitableData

HIGH_CATEGORIES = ("normal", ">1x ULN", ">3x ULN", ">10x ULN")
LOW_CATEGORIES = ("normal", "<LLN")
MISSING = "missing"
# mDISH's quadrants (same order: both high, ALT only, bilirubin only, neither) name new rises from the patient's
# own baseline; Hy's law is defined against the ULN in patients whose liver tests were normal.
# The DIA-ASA hepatic explorer's baseline-relative defaults (ALT, bilirubin), see mdish_from_peaks.
MDISH_DEFAULT_CUTS = (3.8, 4.8)
MDISH_QUADRANTS = ("ALT and bilirubin rise", "ALT rise only", "bilirubin rise only", "below both cut-offs")
_BILI_ENTRY_XULN = ENTRY_CRITERIA.bili_min / describe("BILI").upper_limit
WHY_MDISH = (
    "Why multiples of baseline, not eDISH: eDISH plots peak ALT and bilirubin as multiples of the upper limit of "
    "normal, and its Hy's-law quadrant (ALT >= 3x and bilirubin >= 2x ULN) assumes normal liver tests before "
    f"treatment (FDA 2009 guidance, Drug-Induced Liver Injury: Premarketing Clinical Evaluation). Entry to this "
    f"trial requires total bilirubin >= {ENTRY_CRITERIA.bili_min:g} µmol/L, {_BILI_ENTRY_XULN:.0f}x ULN, so every "
    "patient starts above the bilirubin line, many in the Hy's-law quadrant itself: it flags the liver failure, "
    "not the treatment. In patients with "
    "abnormal baseline liver tests only new rises relative to their own baseline can signal drug-induced liver "
    "injury (IQ DILI consensus: Treem et al., Drug Saf 2021;44:133-165), so the plot shows each patient's peak "
    "after baseline as a multiple of his or her baseline (mDISH, Lin et al., Drug Saf 2012;35:865-875).")


@dataclass(frozen=True)
class DishResult:
    """mDISH: ``patients`` (usubjid, group, alt_peak, bili_peak, quadrant), ``counts`` (group, quadrant, n), the
    cut-offs and the ``quadrants`` (both above the cut-offs, ALT only, bilirubin only, neither:
    :data:`MDISH_QUADRANTS`)."""

    patients: pd.DataFrame
    counts: pd.DataFrame
    alt_cut: float
    bili_cut: float
    method: str
    quadrants: tuple[str, ...]


SHIFT_COUNT_COLUMNS = ("group", "baseline_rank", "worst_rank", "n", "with_limit")


def shift_from_counts(counts: pd.DataFrame, *, paramcd: str, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Baseline category versus worst post-baseline category, patients per group, from the counts of
    ``shift_aggregates.lab_shift_counts``.

    Parameters
    ----------
    counts : DataFrame
        Columns ``SHIFT_COUNT_COLUMNS``: ``group`` (None/NaN when pooled), ``baseline_rank`` and
        ``worst_rank`` (category ranks, 0 = "normal"; None/NaN = "missing"), ``n`` patients and
        ``with_limit`` (of them, patients with a record that has a reference limit).
    paramcd : str
        The lab counted; its registry entry gives the categories.
    groups : sequence of str, optional
        Groups to report and their order (default: order of first appearance in ``counts``); a listed
        group with no patient gets no rows.

    Returns
    -------
    DataFrame
        Columns ``group``, ``baseline``, ``worst_post_baseline``, ``n``: every combination of the
        categories (plus ``"missing"`` for a patient with no baseline or no post-baseline value),
        zero counts included so the table has a fixed shape. Raises for a lab with no reference range
        (derived, or no selected record has a limit).

    Notes
    -----
    worse="high" labs: "normal" (<= ULN, low values included), ">1x ULN", ">3x ULN", ">10x ULN"
    (strictly greater). worse="low" labs (ALB, CHE, PTA, SODIUM, PROT): "normal" (>= LLN), "<LLN".
    Limits are each record's own, else the registry default.
    """
    require_columns("shift_from_counts", counts, SHIFT_COUNT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    return _shift_grid("shift_from_counts", data, paramcd, groups)


def _shift_grid(func: str, counts: pd.DataFrame, paramcd: str, groups: Sequence[str] | None) -> pd.DataFrame:
    """The shift table from ``SHIFT_COUNT_COLUMNS`` counts: the tail shared by the rows and the SQL path."""
    param = describe(paramcd)
    # An empty selection sums to 0 as well: it is refused with this message too.
    if param.derived or counts["with_limit"].sum() == 0:
        raise UnsuitableData(f"{func}: paramcd={paramcd!r} has no reference range; choose a measured lab.")
    cats = HIGH_CATEGORIES if param.worse == "high" else LOW_CATEGORIES
    labels = list(cats) + [MISSING]
    names = dict(enumerate(cats))
    present = list(pd.unique(counts.loc[counts["n"] > 0, "group"]))
    order = present if groups is None else [g for g in groups if g in present]
    cells = counts.assign(baseline=counts["baseline_rank"].map(names).fillna(MISSING),
                          worst_post_baseline=counts["worst_rank"].map(names).fillna(MISSING))
    grid = pd.MultiIndex.from_product([order, labels, labels], names=["group", "baseline", "worst_post_baseline"])
    n = cells.groupby(["group", "baseline", "worst_post_baseline"])["n"].sum().reindex(grid, fill_value=0)
    return n.astype("int64").reset_index()


# ---------------------------------------------------------------------------------------------------

DISH_PEAK_COLUMNS = ("group", "usubjid", "alt_base", "bili_base", "alt_xbase", "bili_xbase")
_MDISH_METHOD = ("mDISH: each patient's peak ALT and peak total bilirubin after baseline (not necessarily on the same "
                 "day) as multiples of his or her own baseline (the last value of the baseline visit); 1 = no "
                 "change. Patients without a baseline or a later value of both are left out; cut-offs ALT {alt:g}x "
                 "and bilirubin {bili:g}x baseline.")


def mdish_from_peaks(peaks: pd.DataFrame, *, alt_cut: float = MDISH_DEFAULT_CUTS[0], bili_cut: float = MDISH_DEFAULT_CUTS[1],
                     groups: Sequence[str] | None = None) -> DishResult:
    """mDISH: peak post-baseline ALT and bilirubin as multiples of each patient's own baseline.

    ``peaks`` is the per-patient frame of ``lab_aggregates.dish_peaks`` (columns ``DISH_PEAK_COLUMNS``,
    ``group`` None when pooled), one row per patient with an ALT or bilirubin record, ordered by usubjid;
    ``groups`` lists the groups to report and their order (default: order of first appearance in ``peaks``);
    a listed group with no positive baseline gets no counts. Peaks are taken separately (not necessarily on the
    same day), as in the FDA eDISH plot.

    Notes
    -----
    For patients with abnormal baseline liver tests (here, liver failure) multiples of ULN say little
    (:data:`WHY_MDISH`): the IQ DILI consensus for patients with liver disease bases monitoring on multiples of
    each patient's baseline (Treem WR et al., Drug Saf 2021;44:133-165, doi:10.1007/s40264-020-01014-2), and the
    modified eDISH plots peaks after baseline as fold-baseline (Lin X et al., Drug Saf 2012;35:865-875). The
    default cut-offs, 3.8x (ALT) and 4.8x (bilirubin) baseline, are the baseline-adjusted defaults of the
    DIA-ASA Interactive Safety Graphics hepatic explorer (SafetyGraphics/hep-explorer, settings
    ``cut.relative_baseline``); no guideline fixes them, so the page lets the reader change them. Quadrants
    are :data:`MDISH_QUADRANTS`. Patients without a positive baseline of both labs are left out.
    """
    _check_dish_input("mdish_from_peaks", "peaks", peaks, DISH_PEAK_COLUMNS, alt_cut, bili_cut)
    peaks, order = _pooled(peaks, groups)
    return _dish(peaks, alt_cut, bili_cut, order)


def _pooled(peaks: pd.DataFrame, groups: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    peaks = peaks.assign(group=peaks["group"].fillna(POOLED_LABEL).astype(str))
    return peaks, list(pd.unique(peaks["group"])) if groups is None else list(groups)


def _check_dish_input(func: str, arg: str, df: pd.DataFrame, columns: Sequence[str], alt_cut: float,
                      bili_cut: float, group_col: str | None = None) -> None:
    require_columns(func, df, columns, arg=arg)
    check_group_col(func, df, group_col, arg=arg)
    for name, v in (("alt_cut", alt_cut), ("bili_cut", bili_cut)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{func}: {name} must be a positive number, got {v!r}.")


def _dish(peaks: pd.DataFrame, alt_cut: float, bili_cut: float, groups: list[str]) -> DishResult:
    """Quadrants and counts per group from the peaks frame: the tail shared by the rows and the SQL path."""
    # A group is reported when it has a patient with a positive baseline (without one there is no multiple of
    # baseline to show).
    present = set(peaks.loc[(peaks["alt_base"] > 0) | (peaks["bili_base"] > 0), "group"])
    order = [g for g in groups if g in present]
    pats = peaks[peaks["alt_xbase"].notna() & peaks["bili_xbase"].notna() & peaks["group"].isin(order)]
    pats = pd.DataFrame({"usubjid": pats["usubjid"].to_numpy(object), "group": pats["group"].to_numpy(object),
                         "alt_peak": pats["alt_xbase"].to_numpy(float), "bili_peak": pats["bili_xbase"].to_numpy(float)})
    a, b = pats["alt_peak"] >= alt_cut, pats["bili_peak"] >= bili_cut
    quadrants = MDISH_QUADRANTS
    pats["quadrant"] = np.select([a & b, a & ~b, ~a & b], list(quadrants[:3]), default=quadrants[3])
    grid = pd.MultiIndex.from_product([order, list(quadrants)], names=["group", "quadrant"])
    counts = pats.groupby(["group", "quadrant"]).size().reindex(grid, fill_value=0).rename("n").reset_index()
    return DishResult(patients=pats, counts=counts, alt_cut=alt_cut, bili_cut=bili_cut,
                      method=_MDISH_METHOD.format(alt=alt_cut, bili=bili_cut), quadrants=quadrants)


GRADE_SHIFT_COLUMNS = ("group", "baseline_grade", "worst_grade", "n")
CTCAE_GRADES = tuple(f"Grade {g}" for g in range(5))


def grade_shift_from_counts(counts: pd.DataFrame, *, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Baseline CTCAE grade against the worst grade after baseline, patients per group, from
    ``shift_aggregates.lab_grade_shift_counts``: columns group, baseline, worst_post_baseline, n, every
    combination of "Grade 0".."Grade 4" and "missing", zeros included."""
    require_columns("grade_shift_from_counts", counts, GRADE_SHIFT_COLUMNS, arg="counts")
    data = counts.assign(group=counts["group"].fillna(POOLED_LABEL).astype(str))
    present = list(pd.unique(data.loc[data["n"] > 0, "group"]))
    order = present if groups is None else [g for g in groups if g in present]
    names = dict(enumerate(CTCAE_GRADES))
    labels = [*CTCAE_GRADES, MISSING]
    cells = data.assign(baseline=data["baseline_grade"].map(names).fillna(MISSING),
                        worst_post_baseline=data["worst_grade"].map(names).fillna(MISSING))
    grid = pd.MultiIndex.from_product([order, labels, labels], names=["group", "baseline", "worst_post_baseline"])
    n = cells.groupby(["group", "baseline", "worst_post_baseline"])["n"].sum().reindex(grid, fill_value=0)
    return n.astype("int64").reset_index()
