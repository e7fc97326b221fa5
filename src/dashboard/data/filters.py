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
