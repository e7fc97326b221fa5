"""Compile a SubjectFilter into a parameterised WHERE clause over ``subjects`` (values never formatted in)."""

from __future__ import annotations

from dashboard.domain.subject_filter import SubjectFilter

_LIST_COLUMNS = {"site": "site_id", "sex": "sex", "etiology": "etiology", "lf_type": "lf_type", "status": "status", "arm": "arm"}


def subject_where(f: SubjectFilter, alias: str = "s") -> tuple[str, dict]:
    """Return ``(sql, params)``: a condition on ``subjects`` aliased ``alias`` and its ``$name`` parameters."""
    clauses: list[str] = []
    params: dict = {}
    for key, column in _LIST_COLUMNS.items():
        values = getattr(f, key)
        if values:
            clauses.append(f"{alias}.{column} IN (SELECT unnest(${key}))")
            params[key] = list(values)
    for key, column, op in (("age_min", "age", ">="), ("age_max", "age", "<="),
                            ("meld_min", "baseline_meld", ">="), ("meld_max", "baseline_meld", "<=")):
        value = getattr(f, key)
        if value is not None:
            clauses.append(f"{alias}.{column} {op} ${key}")
            params[key] = value
    if f.id_search:
        clauses.append(f"contains(lower({alias}.usubjid), lower($id_search))")
        params["id_search"] = f.id_search
    return (" AND ".join(clauses) or "TRUE"), params


def group_sql(include_arm: bool) -> str:
    """The ``"group"`` of a result row over ``subjects s``: the arm, or NULL when pooled, so a blinded viewer's
    query never reads ``arm`` (DESIGN §4)."""
    return "s.arm" if include_arm else "NULL::VARCHAR"


def selected_rows(where: str, alias: str) -> str:
    """A condition (starting with AND) keeping the rows of table alias ``alias`` that belong to the patients
    ``where`` selects; empty without a filter. Used where rows are aggregated per patient before the join to
    ``subjects``: the join then meets 100,000 per-patient rows instead of the millions of records, and a
    filter still drops the other patients' records first."""
    return "" if where == "TRUE" else f" AND {alias}.usubjid IN (SELECT s.usubjid FROM subjects s WHERE {where})"
