"""Domain layer: baseline characteristics by arm with standardised differences (DSMB report, issue 16).

Baseline is the labs' baseline (the last visit-0 value, DESIGN §3 "the last value on or before day 1",
``labstats.add_change_from_baseline`` and the SQL ``BASELINE_CTE``); MELD is ``subjects.baseline_meld``
(derived the same way at load) and the ascites grade ``subjects.baseline_ascites_grade``. MELD-Na is the
derived ``MELDNA`` record (OPTN 2016 formula, domain.md §5.3, :func:`dashboard.domain.meld.meld_na`), shown
only when the data hold it; an imported cut without it gets a note instead of a row.

Standardised differences (SMD), active arm minus control arm, only when exactly two arms are shown:

- continuous (Austin 2009): (m1 - m2) / sqrt((s1^2 + s2^2) / 2);
- binary (Austin 2009): (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2);
- categorical with K levels (Yang & Dalton 2012): sqrt(T' S^-1 T), T = p1 - p2 over K - 1 levels (the
  first left out), S = (S1 + S2) / 2 with S_kk = p_k (1 - p_k) and S_kl = -p_k p_l; never negative. For
  K = 2 it equals the absolute binary SMD.

Categorical SMDs use the proportions among patients with a known value; percentages in the table are of all
patients in the group, with a "Missing" row when any value is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.checks import require_columns
from dashboard.domain.consort import display_order, label_groups
from dashboard.domain.labs import describe
from dashboard.domain.report_format import MISSING, fmt_count, fmt_mean_sd, fmt_median_iqr, fmt_n_pct, fmt_number


@dataclass(frozen=True)
class Characteristic:
    variable: str
    label: str
    kind: str  # "continuous" or "categorical"
    decimals: int = 1


# Labs whose baseline is shown, in table order (the registry gives name, unit, decimals).
BASELINE_LABS: tuple[str, ...] = ("MELDNA", "BILI", "ALB", "INR", "PTA", "CREAT", "SODIUM")
ASCITES_LABELS = {"0": "0 none", "1": "1 mild", "2": "2 moderate", "3": "3 severe"}
SEX_LABELS = {"M": "Male", "F": "Female"}
MISSING_CATEGORY = "Missing"
MELDNA_NOTE = ("MELD-Na is not shown: this data cut holds no MELD-Na (MELDNA) records; it is derived by the "
               "OPTN 2016 formula only where sodium was recorded.")
BASELINE_COLUMNS = ("variable", "label", "kind", "category", "group", "patients", "n", "missing", "mean", "sd",
                    "median", "q1", "q3", "min", "max", "count", "pct", "smd")


def _lab_label(paramcd: str) -> Characteristic:
    p = describe(paramcd)
    unit = "" if p.unit in ("", "ratio") else f", {p.unit.replace('umol', 'µmol')}"
    return Characteristic(paramcd, f"{p.name}{unit}", "continuous", p.decimals)


def characteristics(paramcds: Sequence[str]) -> tuple[Characteristic, ...]:
    """The table's rows in order: demography, MELD scores, the labs of ``paramcds`` (in BASELINE_LABS
    order), ascites."""
    labs = [Characteristic("MELDNA", "MELD-Na (OPTN 2016), points", "continuous", 1) if c == "MELDNA" else _lab_label(c)
            for c in BASELINE_LABS if c in set(paramcds)]
    return (Characteristic("AGE", "Age, years", "continuous", 1),
            Characteristic("SEX", "Sex", "categorical"),
            Characteristic("WEIGHT", "Body weight, kg", "continuous", 1),
            Characteristic("ETIOLOGY", "Etiology", "categorical"),
            Characteristic("LF_TYPE", "Liver-failure type", "categorical"),
            Characteristic("MELD", "MELD (UNOS), points", "continuous", 1),
            *labs,
            Characteristic("ASCITES", "Ascites grade (ICA)", "categorical"))


def smd_continuous(mean1: float, sd1: float, mean2: float, sd2: float) -> float:
    """Austin (2009): (m1 - m2) / sqrt((s1^2 + s2^2) / 2); NaN when the pooled SD is 0 or unknown."""
    pooled = math.sqrt((sd1 ** 2 + sd2 ** 2) / 2) if not (pd.isna(sd1) or pd.isna(sd2)) else float("nan")
    if pd.isna(mean1) or pd.isna(mean2) or not pooled > 0:
        return float("nan")
    return (mean1 - mean2) / pooled


def smd_binary(p1: float, p2: float) -> float:
    """Austin (2009): (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2); NaN when both are 0 or both 1."""
    pooled = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    return (p1 - p2) / pooled if pooled > 0 else float("nan")


def smd_categorical(p1: Sequence[float], p2: Sequence[float]) -> float:
    """Yang & Dalton (2012) multi-category SMD of two proportion vectors over the same K levels (each summing
    to 1): sqrt(T' S^-1 T) over levels 2..K. Levels absent from both groups are left out first; NaN when
    fewer than two levels remain."""
    a, b = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"smd_categorical: arguments p1 and p2 must have the same length, got {len(a)} and {len(b)}.")
    keep = (a > 0) | (b > 0)
    a, b = a[keep], b[keep]
    if len(a) < 2:
        return float("nan")
    t = (a - b)[1:]
    s1 = np.diag(a[1:]) - np.outer(a[1:], a[1:])
    s2 = np.diag(b[1:]) - np.outer(b[1:], b[1:])
    s = (s1 + s2) / 2
    return float(math.sqrt(max(float(t @ np.linalg.pinv(s) @ t), 0.0)))


def baseline_table(continuous: pd.DataFrame, categorical: pd.DataFrame, groups: Sequence[str] | None = None,
                   paramcds: Sequence[str] = BASELINE_LABS) -> pd.DataFrame:
    """Baseline characteristics per group, with the SMD of the two arms.

    Parameters
    ----------
    continuous : DataFrame
        ``report_queries.baseline_continuous``: per group (``total``) and ``variable``: ``patients``, ``n``,
        ``mean``, ``sd``, ``median``, ``q1``, ``q3``, ``min``, ``max``.
    categorical : DataFrame
        ``report_queries.baseline_categorical``: per group (``total``), ``variable``, ``category`` (NaN when
        missing): ``n``.
    groups : arms in study order; None or empty when pooled. The SMD is computed when there are two.
    paramcds : the labs present in the data (their order is BASELINE_LABS').

    Returns
    -------
    DataFrame
        ``BASELINE_COLUMNS``, one row per (variable, group) for continuous variables and per (variable,
        category, group) for categorical ones (every category of the variable in every group, zeros
        included; ``Missing`` last when present); ``pct`` = count / patients x 100; ``smd`` on every row of the
        variable (NaN unless two arms). ``attrs["note"]`` says when MELD-Na is not in the data.
    """
    require_columns("baseline_table", continuous, ("group", "variable", "patients", "n", "mean", "sd", "median",
                                                   "q1", "q3", "min", "max"))
    require_columns("baseline_table", categorical, ("group", "variable", "category", "n"), arg="categorical")
    order = display_order(groups)
    arms = list(groups or [])
    cont = continuous.assign(group=label_groups(continuous)).set_index(["variable", "group"])
    cat = categorical.assign(group=label_groups(categorical),
                             category=categorical["category"].astype(object).where(categorical["category"].notna(),
                                                                                   MISSING_CATEGORY))
    patients = cat[cat["variable"] == "SEX"].groupby("group")["n"].sum()
    rows = []
    for c in characteristics(paramcds):
        if c.kind == "continuous":
            smd = float("nan")
            if len(arms) == 2 and all((c.variable, g) in cont.index for g in arms):
                r1, r2 = cont.loc[(c.variable, arms[0])], cont.loc[(c.variable, arms[1])]
                smd = smd_continuous(r1["mean"], r1["sd"], r2["mean"], r2["sd"])
            for g in order:
                if (c.variable, g) not in cont.index:
                    continue
                r = cont.loc[(c.variable, g)]
                rows.append({"variable": c.variable, "label": c.label, "kind": c.kind, "category": None, "group": g,
                             "patients": int(r["patients"]), "n": int(r["n"]), "missing": int(r["patients"] - r["n"]),
                             **{k: float(r[k]) for k in ("mean", "sd", "median", "q1", "q3", "min", "max")},
                             "count": np.nan, "pct": np.nan, "smd": smd})
            continue
        part = cat[cat["variable"] == c.variable]
        known = sorted(x for x in part["category"].unique() if x != MISSING_CATEGORY)
        levels = known + ([MISSING_CATEGORY] if (part["category"] == MISSING_CATEGORY).any() else [])
        counts = part.groupby(["group", "category"])["n"].sum()
        smd = float("nan")
        if len(arms) == 2:
            props = []
            for g in arms:
                v = np.array([counts.get((g, x), 0) for x in known], dtype=float)
                props.append(v / v.sum() if v.sum() else v)
            if all(p.sum() > 0 for p in props):
                smd = smd_categorical(props[0], props[1])
        for x in levels:
            for g in order:
                if g not in patients.index:
                    continue
                total = int(patients[g])
                known_n = int(sum(counts.get((g, k), 0) for k in known))
                n = int(counts.get((g, x), 0))
                rows.append({"variable": c.variable, "label": c.label, "kind": c.kind, "category": x, "group": g,
                             "patients": total, "n": known_n, "missing": total - known_n,
                             **dict.fromkeys(("mean", "sd", "median", "q1", "q3", "min", "max"), np.nan),
                             "count": n, "pct": 100.0 * n / total if total else np.nan, "smd": smd})
    out = pd.DataFrame(rows, columns=list(BASELINE_COLUMNS))
    notes = [] if "MELDNA" in set(paramcds) else [MELDNA_NOTE]
    notes.append("Standardised differences: active minus control; continuous and binary as Austin (2009), "
                 "categorical as Yang & Dalton (2012), which is never negative." if len(arms) == 2 else
                 "Standardised differences are shown when two arms are compared.")
    out.attrs["note"] = " ".join(notes)
    return out


def _category_label(variable: str, category: str) -> str:
    if variable == "ASCITES":
        return ASCITES_LABELS.get(category, category)
    if variable == "SEX":
        return SEX_LABELS.get(category, category)
    return category


def baseline_display(table: pd.DataFrame) -> pd.DataFrame:
    """The publication baseline table: ``Characteristic`` (variable label, then indented statistic or
    category), one column per group, and ``SMD`` (2 decimals) when two arms are compared.

    Continuous variables get "Mean (SD)" and "Median (Q1–Q3)" rows (and "Missing, n" when any value is
    missing); categorical ones a row per category with ``n (%)`` of the group's patients."""
    require_columns("baseline_display", table, BASELINE_COLUMNS)
    groups = list(dict.fromkeys(table["group"]))
    with_smd = table["smd"].notna().any()
    rows: list[dict] = []
    patients = table.drop_duplicates("group").set_index("group")["patients"]
    rows.append({"Characteristic": "Patients, N", **{g: fmt_count(patients[g]) for g in groups}})
    for variable, part in table.groupby("variable", sort=False):
        first = part.iloc[0]
        smd = "" if pd.isna(first["smd"]) else fmt_number(first["smd"], 2)
        if first["kind"] == "continuous":
            d = _decimals(variable)
            by_g = part.set_index("group")
            rows.append({"Characteristic": first["label"], **dict.fromkeys(groups, ""), "SMD": ""})
            rows.append({"Characteristic": "  Mean (SD)",
                         **{g: fmt_mean_sd(by_g.loc[g, "mean"], by_g.loc[g, "sd"], d) if g in by_g.index else MISSING
                            for g in groups}, "SMD": smd})
            rows.append({"Characteristic": "  Median (Q1–Q3)",
                         **{g: fmt_median_iqr(by_g.loc[g, "median"], by_g.loc[g, "q1"], by_g.loc[g, "q3"], d)
                            if g in by_g.index else MISSING for g in groups}, "SMD": ""})
            if (part["missing"] > 0).any():
                rows.append({"Characteristic": "  Missing, n",
                             **{g: fmt_count(by_g.loc[g, "missing"]) if g in by_g.index else MISSING for g in groups},
                             "SMD": ""})
            continue
        rows.append({"Characteristic": f"{first['label']}, n (%)", **dict.fromkeys(groups, ""), "SMD": smd})
        for category, cpart in part.groupby("category", sort=False):
            by_g = cpart.set_index("group")
            rows.append({"Characteristic": f"  {_category_label(variable, category)}",
                         **{g: fmt_n_pct(by_g.loc[g, "count"], by_g.loc[g, "patients"]) if g in by_g.index else
                            MISSING for g in groups}, "SMD": ""})
    out = pd.DataFrame(rows).fillna("")
    if not with_smd:
        out = out.drop(columns="SMD")
    out.attrs["note"] = table.attrs.get("note", "")
    return out


def _decimals(variable: str) -> int:
    if variable in ("AGE", "WEIGHT", "MELD", "MELDNA"):
        return 1
    return describe(variable).decimals
