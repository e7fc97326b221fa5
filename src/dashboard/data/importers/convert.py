"""Data layer: typed conversion of delivered columns, reporting each bad value with file, row and column.

Every converter takes a :class:`SourceTable`, returns a pandas Series aligned with it and adds one
problem per value it cannot convert. Dates accept ISO 8601 text (time part ignored), SAS dates (days
since 1960-01-01) and dates already decoded by the reader. Study day follows the data model, not
CDISC: day 1 is the first-dose day and the day before it is day 0 (CDISC has no day 0, so CDISC
--DY -1 becomes 0 here); collected_on = day1_on + study_day - 1 always holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pandas as pd

from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import SourceTable

SAS_EPOCH = np.datetime64("1960-01-01", "D")
FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-+)?$")
ISO_DURATION = re.compile(r"^-?P(?:T)?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def require_columns(t: SourceTable, columns: list[str | tuple[str, ...]], problems: Problems) -> bool:
    """Check each required column (a tuple means any one of them) is present; report the missing ones."""
    ok = True
    for col in columns:
        options = col if isinstance(col, tuple) else (col,)
        if not any(c in t.df.columns for c in options):
            problems.add(t.name, None, " or ".join(options), "no such column",
                         f"a column {' or '.join(options)} (present: {', '.join(c for c in t.df.columns if c != '_row')})")
            ok = False
    return ok


def first_column(t: SourceTable, *names: str) -> str | None:
    """The first of ``names`` that the table has with at least one value."""
    return next((n for n in names if t.has(n)), None)


def _blank(s: pd.Series) -> pd.Series:
    return s.isna()


def text(t: SourceTable, col: str | None, problems: Problems, *, required: bool = False) -> pd.Series:
    if col is None or col not in t.df.columns:
        return pd.Series([None] * len(t.df), index=t.df.index, dtype=object)
    s = t.df[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else
                      (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    if required:
        _report_blank(t, col, s, problems)
    return s


def _report_blank(t: SourceTable, col: str, s: pd.Series, problems: Problems) -> None:
    bad = _blank(s)
    if bad.any():
        problems.add_rows(t.name, t.df.loc[bad, "_row"], col, ["" for _ in range(int(bad.sum()))],
                          "a value (the column is required)")


def numbers(t: SourceTable, col: str | None, problems: Problems, *, required: bool = False) -> pd.Series:
    """Finite floats; text that is not a number, and infinity, are problems; blank is missing."""
    if col is None or col not in t.df.columns:
        return pd.Series(np.nan, index=t.df.index)
    s = t.df[col]
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype(float)
    else:
        out = pd.to_numeric(s, errors="coerce").astype(float)
        bad = out.isna() & s.notna()
        if bad.any():
            problems.add_rows(t.name, t.df.loc[bad, "_row"], col, s[bad], "a number")
    infinite = np.isinf(out)
    if infinite.any():
        problems.add_rows(t.name, t.df.loc[infinite, "_row"], col, s[infinite], "a finite number (not infinity)")
        out = out.mask(infinite)
    if required:
        missing = out.isna() & s.isna()
        if missing.any():
            problems.add_rows(t.name, t.df.loc[missing, "_row"], col, ["" for _ in range(int(missing.sum()))],
                              "a number (the column is required)")
    return out


def integers(t: SourceTable, col: str | None, problems: Problems, *, required: bool = False) -> pd.Series:
    out = numbers(t, col, problems, required=required)
    frac = out.notna() & (out != np.round(out))
    if frac.any():
        problems.add_rows(t.name, t.df.loc[frac, "_row"], col, t.df.loc[frac, col], "a whole number")
    return out.where(~frac).round().astype("Int64")


def dates(t: SourceTable, col: str | None, problems: Problems, *, required: bool = False,
          partial: bool = False) -> tuple[pd.Series, pd.Series]:
    """(datetime64[ns] Series, partial text Series). Partial ISO dates (YYYY, YYYY-MM) are returned in the
    second series when ``partial`` is True, and are a problem otherwise."""
    idx = t.df.index
    empty = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]"), pd.Series(None, index=idx, dtype=object)
    if col is None or col not in t.df.columns:
        return empty
    s = t.df[col]
    partial_out = pd.Series(None, index=idx, dtype=object)
    if pd.api.types.is_numeric_dtype(s):
        out = pd.Series(_sas_days(s).to_numpy(), index=idx)
    else:
        kinds = s.map(lambda v: "date" if isinstance(v, (date, datetime, pd.Timestamp)) else "text")
        out = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
        decoded = kinds.eq("date") & s.notna()
        if decoded.any():
            out[decoded] = pd.to_datetime(s[decoded].map(lambda v: v.date() if isinstance(v, datetime) else v))
        txt = s.where(kinds.eq("text") & s.notna())
        full = txt.str.match(FULL_DATE, na=False)
        parsed = pd.to_datetime(txt[full].str[:10], format="%Y-%m-%d", errors="coerce")
        out[full] = parsed
        bad = (full & out.isna()) | (txt.notna() & ~full)
        if partial:
            is_partial = txt.notna() & ~full & txt.str.match(PARTIAL_DATE, na=False)
            partial_out[is_partial] = txt[is_partial]
            bad &= ~is_partial
        if bad.any():
            problems.add_rows(t.name, t.df.loc[bad, "_row"], col, s[bad],
                              "a date YYYY-MM-DD (ISO 8601; a time after it is allowed)")
    if required:
        missing = s.isna()
        if missing.any():
            problems.add_rows(t.name, t.df.loc[missing, "_row"], col, ["" for _ in range(int(missing.sum()))],
                              "a date (the column is required)")
    return out.astype("datetime64[ns]"), partial_out


def _sas_days(s: pd.Series) -> pd.Series:
    days = s.to_numpy(dtype=float)
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    out[ok] = SAS_EPOCH + np.round(days[ok]).astype(np.int64).astype("timedelta64[D]")
    return pd.to_datetime(out)


def impute_partial(partial: pd.Series, day1: pd.Series) -> pd.Series:
    """ADaM-style imputation of a partial start date: first day of the month (or year), but not before
    the first dose when it falls in the same month (or year)."""
    out = pd.Series(pd.NaT, index=partial.index, dtype="datetime64[ns]")
    for i, v in partial.dropna().items():
        m = PARTIAL_DATE.match(v)
        year, month = int(m.group(1)), int(m.group(2)) if m.group(2) else None
        d = pd.Timestamp(year, month or 1, 1)
        first = day1.get(i)
        if pd.notna(first) and first.year == year and (month is None or first.month == month) and first > d:
            d = first
        out[i] = d
    return out


def terms(t: SourceTable, col: str | None, allowed: dict[str, object], problems: Problems, *,
          required: bool = False, default: object = None) -> pd.Series:
    """Map controlled terms (case-insensitive) to values; an unknown term is a problem naming the allowed ones."""
    s = text(t, col, problems, required=required)
    lookup = {k.upper(): v for k, v in allowed.items()}
    upper = s.str.upper()
    known = upper.isin(list(lookup))
    bad = s.notna() & ~known
    if bad.any():
        problems.add_rows(t.name, t.df.loc[bad, "_row"], col, s[bad], f"one of {', '.join(allowed)}")
    return upper.map(lambda v: lookup.get(v, default) if v is not None else default)


def study_day(on: pd.Series, day1: pd.Series) -> pd.Series:
    """Data-model study day: (date - first-dose date) + 1, so the first-dose day is day 1."""
    return ((on - day1).dt.days + 1).astype("Int64")


def cdisc_day_to_model(dy: pd.Series) -> pd.Series:
    """CDISC --DY has no day 0 (-1 is the day before day 1); the data model counts on through 0."""
    return dy.where(dy > 0, dy + 1).round().astype("Int64")


def day_to_date(day: pd.Series, day1: pd.Series) -> pd.Series:
    return day1 + pd.to_timedelta(day.astype(float) - 1, unit="D")


def iso_hours(values: pd.Series) -> pd.Series:
    """ISO 8601 durations (PT2H, PT30M) as hours; anything else is missing."""
    def one(v):
        m = ISO_DURATION.match(v) if isinstance(v, str) else None
        if not m or not any(m.groups()):
            return np.nan
        h, mi, se = (float(g) if g else 0.0 for g in m.groups())
        return (-1 if v.startswith("-") else 1) * (h + mi / 60 + se / 3600)
    return values.map(one).astype(float)
