"""The DuckDB schema of DESIGN §3: a contract that importers, tests and users' scripts rely on.

Documented column by column in docs/data-model.md; ``tests/data/test_schema.py`` keeps the two equal.
"""

from __future__ import annotations

import duckdb

# The one list of what reveals the treatment arm (DESIGN §4). Per trial table, the columns a blinded
# viewer's SQL never selects (queries omit them; ``visible_columns`` and ``arm_columns_sql`` build from it).
ARM_REVEALING_COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": ("arm",),
    "infusions": ("product", "dose_cells_1e6"),
    "study": ("active_arm", "control_arm", "arms"),
}
# Column names of a delivery (SDTM DM/EX, ADaM ADSL/ADTTE, the CSV template, lower case) whose values
# reveal a patient's arm: an import report shown to a blinded data manager never repeats them.
ARM_REVEALING_SOURCE_COLUMNS: frozenset[str] = frozenset({
    "arm", "armcd", "actarm", "actarmcd", "trt01p", "trt01pn", "trt01a", "trt01an", "trtp", "trta",
    "extrt", "exdose", "exdosu",
}) | {column for columns in ARM_REVEALING_COLUMNS.values() for column in columns}

TABLES: dict[str, str] = {
    "study": """
        study_id VARCHAR NOT NULL, title VARCHAR NOT NULL, planned_n INTEGER NOT NULL,
        data_cut_date DATE NOT NULL, blinded BOOLEAN NOT NULL,
        arms VARCHAR[] NOT NULL, active_arm VARCHAR NOT NULL, control_arm VARCHAR NOT NULL,
        source VARCHAR NOT NULL, simulated BOOLEAN NOT NULL,
        enrolment_start DATE, enrolment_months DOUBLE, follow_up_days INTEGER NOT NULL""",
    "subjects": """
        usubjid VARCHAR PRIMARY KEY, site_id VARCHAR NOT NULL, arm VARCHAR NOT NULL,
        randomized_on DATE NOT NULL, day1_on DATE NOT NULL, age INTEGER, sex VARCHAR,
        weight_kg DOUBLE, etiology VARCHAR, lf_type VARCHAR, status VARCHAR NOT NULL,
        death_on DATE, death_cause VARCHAR, transplant_on DATE, withdrawn_on DATE,
        last_contact_on DATE NOT NULL, baseline_meld DOUBLE, baseline_ascites_grade INTEGER""",
    "visits": """
        visit VARCHAR NOT NULL, visit_num INTEGER PRIMARY KEY, target_day INTEGER NOT NULL,
        window_lo INTEGER NOT NULL, window_hi INTEGER NOT NULL""",
    "lab_results": """
        usubjid VARCHAR NOT NULL, paramcd VARCHAR NOT NULL, param VARCHAR NOT NULL,
        unit VARCHAR NOT NULL, visit VARCHAR, visit_num INTEGER, study_day INTEGER NOT NULL,
        collected_on DATE NOT NULL, value DOUBLE NOT NULL, lower_limit DOUBLE, upper_limit DOUBLE,
        toxgr_low INTEGER, toxgr_high INTEGER""",
    "infusions": """
        usubjid VARCHAR NOT NULL, infusion_num INTEGER NOT NULL, given_on DATE NOT NULL,
        study_day INTEGER NOT NULL, product VARCHAR, dose_cells_1e6 DOUBLE, volume_ml DOUBLE""",
    "vital_signs": """
        usubjid VARCHAR NOT NULL, infusion_num INTEGER, timepoint VARCHAR, hours_after DOUBLE,
        paramcd VARCHAR NOT NULL, value DOUBLE NOT NULL, unit VARCHAR NOT NULL""",
    "adverse_events": """
        ae_id INTEGER NOT NULL, usubjid VARCHAR NOT NULL, term VARCHAR NOT NULL, soc VARCHAR NOT NULL,
        grade INTEGER NOT NULL, serious BOOLEAN NOT NULL, related BOOLEAN NOT NULL,
        infusion_related BOOLEAN NOT NULL, infusion_num INTEGER, onset_hours_after DOUBLE,
        onset_day INTEGER NOT NULL, end_day INTEGER, outcome VARCHAR NOT NULL,
        led_to_discontinuation BOOLEAN NOT NULL""",
    "ascites": """
        usubjid VARCHAR NOT NULL, visit VARCHAR NOT NULL, visit_num INTEGER NOT NULL,
        study_day INTEGER NOT NULL, grade INTEGER NOT NULL, depth_cm DOUBLE NOT NULL,
        volume_ml DOUBLE NOT NULL""",
    # One row per subject and ADaM ADTTE parameter (PARAMCD); event 1 = event, 0 = censored (1 - CNSR).
    "time_to_event": """
        usubjid VARCHAR NOT NULL, paramcd VARCHAR NOT NULL, param VARCHAR NOT NULL, time_days DOUBLE NOT NULL,
        event INTEGER NOT NULL, censor_reason VARCHAR""",
    "data_cuts": """
        cut_id INTEGER NOT NULL, cut_date DATE NOT NULL, loaded_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL, row_counts VARCHAR NOT NULL, checksum VARCHAR NOT NULL""",
    # The DSMB charter in force for this cut (docs/charter.md): at most one row, the TOML text as loaded.
    # A cut loaded without a charter carries the previous cut's row forward unchanged.
    "charter": """
        version VARCHAR NOT NULL, title VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, source VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL, text VARCHAR NOT NULL""",
}
# Tables about the cut rather than the trial's records: not counted in data_cuts.row_counts.
CUT_METADATA_TABLES = ("data_cuts", "charter")

SUBJECT_STATUSES = ("on study", "completed", "died", "transplanted", "withdrawn", "lost to follow-up")


# The randomisation, kept apart from the trial data in its own file (DESIGN §8, issue 16): the arm of each
# patient, each infusion's product and dose, the arms' names. Only unblinded sessions attach it; the trial
# file holds none of ARM_REVEALING_COLUMNS, so a blinded person's copy of the trial cannot reveal an arm.
RANDOMIZATION_TABLES: dict[str, str] = {
    "randomization": "usubjid VARCHAR PRIMARY KEY, arm VARCHAR NOT NULL",
    "infusion_products": "usubjid VARCHAR NOT NULL, infusion_num INTEGER NOT NULL, product VARCHAR, dose_cells_1e6 DOUBLE",
    "arms": "arms VARCHAR[] NOT NULL, active_arm VARCHAR NOT NULL, control_arm VARCHAR NOT NULL",
}
# Which randomisation table restores a data-model table's arm-revealing columns, joined on which keys
# (no keys: the one-row ``arms`` table goes with the one-row ``study``).
RESTORED_FROM: dict[str, tuple[str, tuple[str, ...]]] = {
    "subjects": ("randomization", ("usubjid",)),
    "infusions": ("infusion_products", ("usubjid", "infusion_num")),
    "study": ("arms", ()),
}


def trial_file_columns(table: str) -> str:
    """The DDL of ``table`` as stored in the trial file: the data model's without its arm-revealing columns."""
    hidden = ARM_REVEALING_COLUMNS.get(table, ())
    return ",".join(part for part in TABLES[table].split(",") if part.split()[0] not in hidden)


def create_tables(con: duckdb.DuckDBPyConnection, *, with_arms: bool = False) -> None:
    """Create every table of the trial file (the data model without its arm-revealing columns), or with
    ``with_arms`` the whole data model in one database (an in-memory trial built by hand)."""
    for name in TABLES:
        con.execute(f"CREATE TABLE {name} ({TABLES[name] if with_arms else trial_file_columns(name)})")


def create_randomization_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in RANDOMIZATION_TABLES.items():
        con.execute(f"CREATE TABLE {name} ({columns})")


def create_unblinded_views(con: duckdb.DuckDBPyConnection, trial: str, randomization: str) -> None:
    """In the connection's current catalog, one view per data-model table: the trial file's table, with its
    arm-revealing columns joined back from the randomisation (both attached under the given aliases). Tables
    a file predates (an older cut without ``charter``) get no view, as they have no table."""
    present = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [trial]).fetchall()}
    for name in (t for t in TABLES if t in present):
        if name not in RESTORED_FROM:
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {trial}.{name}")
            continue
        source, keys = RESTORED_FROM[name]
        restored = ", ".join(f"r.{c}" for c in ARM_REVEALING_COLUMNS[name])
        join = f"LEFT JOIN {randomization}.{source} r USING ({', '.join(keys)})" if keys else \
            f"CROSS JOIN {randomization}.{source} r"
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT t.*, {restored} FROM {trial}.{name} t {join}")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of ``table`` in storage order (of the current database: a previous cut may be attached)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_catalog = current_database() AND table_schema = current_schema() ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def visible_columns(con: duckdb.DuckDBPyConnection, table: str, include_arm: bool) -> list[str]:
    """``table``'s columns, without its arm-revealing ones unless ``include_arm``: a blinded select list."""
    hidden = () if include_arm else ARM_REVEALING_COLUMNS.get(table, ())
    return [c for c in table_columns(con, table) if c not in hidden]


def arm_columns_sql(table: str, include_arm: bool, alias: str = "") -> str:
    """``", a.col, ..."``: ``table``'s arm-revealing columns (aliased ``alias``) to append to a select list,
    or ``""`` when arms may not be shown."""
    prefix = f"{alias}." if alias else ""
    return "".join(f", {prefix}{c}" for c in ARM_REVEALING_COLUMNS[table]) if include_arm else ""
