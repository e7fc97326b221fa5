"""A delivered file must prove it is whole: a cut-short SAS XPORT file is rejected (not read as fewer
patients), and a subject of another file missing from ADSL/DM names both files; the cut stays unchanged."""

from datetime import date
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from dashboard.data.importers.cuts import kept_cut_path
from dashboard.data.importers.pipeline import ImportSettings, import_cut
from dashboard.data.importers.problems import ImportValidationError, Problems
from dashboard.data.importers.sources import Delivery
from tests.conftest import PILOT, needs_pilot
from tests.data.test_import_validation import current, sha256  # noqa: F401 (fixture)

pytestmark = needs_pilot
RECORD = 80


def pilot_bytes(name: str) -> bytes:
    return (PILOT / name).read_bytes()


def rejected(tmp_path: Path, db: Path, fmt: str, files: dict[str, bytes]) -> ImportValidationError:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    before = sha256(db)
    with pytest.raises(ImportValidationError) as info:
        import_cut(ImportSettings(fmt, str(folder), date(2014, 7, 1), db=str(db)))
    assert sha256(db) == before and not kept_cut_path(db, 2).exists()
    return info.value


def data_start_and_obs_length(raw: bytes) -> tuple[int, int]:
    """Where the observations begin and how long one is (from the spec's headers, independently of sources.py)."""
    obs_header = raw.index(b"HEADER RECORD*******OBS     HEADER RECORD")
    _, meta = pyreadstat.read_xport(str(PILOT / "adsl.xpt"), metadataonly=True)
    return obs_header + RECORD, sum(meta.variable_storage_width.values())


def test_the_reported_truncated_adsl_is_rejected_naming_the_file(tmp_path, current):  # noqa: F811
    error = rejected(tmp_path, current, "adam", {"adsl.xpt": pilot_bytes("adsl.xpt")[:57357]})
    problem = next(p for p in error.problems if p.file == "adsl.xpt")
    assert "57,357 bytes" in str(problem.found) and "80-byte records" in str(problem.found)
    assert "SAS XPORT" in problem.expected


def test_adsl_cut_at_a_record_boundary_inside_the_data_is_rejected(tmp_path):
    raw = pilot_bytes("adsl.xpt")
    start, obs_len = data_start_and_obs_length(raw)
    cuts = [c for c in range(start + RECORD, len(raw) - RECORD, RECORD) if (c - start) % obs_len]
    assert len(cuts) > 1000  # nearly every record boundary falls inside an observation
    for cut in cuts[::60] + cuts[-3:]:
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        (folder / "adsl.xpt").write_bytes(raw[:cut])
        problems = Problems()
        assert Delivery(folder, problems).get("adsl") is None, f"cut at byte {cut} was accepted"
        assert problems.items[0].file == "adsl.xpt" and "observation" in str(problems.items[0].found)


@pytest.mark.parametrize("tail", [b"x" * RECORD, b" " * (2 * RECORD)], ids=["garbage record", "two blank records"])
def test_xpt_with_records_appended_is_rejected(tmp_path, tail):
    (tmp_path / "adsl.xpt").write_bytes(pilot_bytes("adsl.xpt") + tail)
    problems = Problems()
    assert Delivery(tmp_path, problems).get("adsl") is None
    assert problems.items[0].file == "adsl.xpt"


def test_a_csv_named_xpt_is_not_a_sas_xport_file(tmp_path):
    (tmp_path / "dm.xpt").write_bytes(b"USUBJID,ARM\n" + b"01-701-1015,Placebo" + b" " * 49 + b"\n")
    problems = Problems()
    assert Delivery(tmp_path, problems).get("dm") is None
    assert "SAS XPORT" in problems.items[0].expected


@pytest.mark.parametrize("name", ["adsl.xpt", "adae.xpt", "adtte.xpt", "dm.xpt", "ds.xpt", "ex.xpt", "ae.xpt"])
def test_the_pilot_files_are_whole(name):
    problems = Problems()
    table = Delivery(PILOT, problems).get(Path(name).stem)
    assert not problems and len(table.df) == len(pyreadstat.read_xport(str(PILOT / name))[0])


def test_adam_subject_missing_from_adsl_names_both_files_and_a_subject(tmp_path, current):  # noqa: F811
    adsl = pyreadstat.read_xport(str(PILOT / "adsl.xpt"))[0]
    kept = adsl.iloc[:118]
    adtte = pyreadstat.read_xport(str(PILOT / "adtte.xpt"))[0]
    example = adtte.loc[~adtte["USUBJID"].isin(kept["USUBJID"]), "USUBJID"].iloc[0]
    error = rejected(tmp_path, current, "adam", {"adsl.csv": kept.to_csv(index=False).encode(),
                                                 "adtte.xpt": pilot_bytes("adtte.xpt")})
    problem = next(p for p in error.problems if p.file == "adtte.xpt" and "adsl.csv" in p.expected)
    assert problem.column == "USUBJID" and problem.found == example and problem.row is not None
    assert "136 subject(s)" in problem.expected


def test_sdtm_subject_missing_from_dm_names_both_files_and_a_subject(tmp_path, current):  # noqa: F811
    dm = pyreadstat.read_xport(str(PILOT / "dm.xpt"))[0]
    kept = dm.iloc[:150]
    ae = pyreadstat.read_xport(str(PILOT / "ae.xpt"))[0]
    missing = ae.loc[~ae["USUBJID"].isin(kept["USUBJID"]), "USUBJID"]
    error = rejected(tmp_path, current, "sdtm", {"dm.csv": kept.to_csv(index=False).encode(),
                                                 "ae.xpt": pilot_bytes("ae.xpt")})
    problem = next(p for p in error.problems if p.file == "ae.xpt" and "dm.csv" in p.expected)
    assert problem.found == missing.iloc[0] and f"{missing.nunique()} subject(s)" in problem.expected
    # reported once for the file, not again for each of its rows
    assert not [p for p in error.problems if p.file == "ae.xpt" and p.column == "USUBJID" and p is not problem]



def write_xpt(path: Path, rows: int, version: int) -> bytes:
    """An XPORT file whose 80-byte observations (a 72-character and a numeric variable) each fill one record."""
    df = pd.DataFrame({"USUBJID": [f"S-{i:03d}".ljust(72, "x") for i in range(rows)], "AVAL": [float(i) for i in range(rows)]})
    pyreadstat.write_xport(df, str(path), file_format_version=version)
    return path.read_bytes()


@pytest.mark.parametrize("version", [5, 8])
def test_xport_written_by_readstat_is_read(tmp_path, version):
    write_xpt(tmp_path / "adtte.xpt", 5, version)
    problems = Problems()
    assert len(Delivery(tmp_path, problems).get("adtte").df) == 5 and not problems


def test_version_8_file_cut_where_an_observation_ends_is_rejected_by_its_stored_count(tmp_path):
    raw = write_xpt(tmp_path / "full.xpt", 5, 8)
    (tmp_path / "adtte.xpt").write_bytes(raw[:-RECORD])
    problems = Problems()
    assert Delivery(tmp_path, problems).get("adtte") is None
    assert "5 observations in the OBSV8 header" in str(problems.items[0].found)
