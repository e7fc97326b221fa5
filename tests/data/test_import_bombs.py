"""Zip bombs and oversized files are refused before they are read (importers/limits.py): a member's declared
size, the total, the compression ratio, the expanded size itself (a header may lie), the size of a data
file in a folder and of the .zip; the cut stays unchanged. Bombs are built small on disk and stay small
in memory."""

import struct
import tomllib
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from dashboard.data.importers import limits, sources
from dashboard.data.importers.problems import Problems
from dashboard.data.importers.sources import Delivery
from tests.data.test_import_validation import GOOD, current, rejected  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024**2


def zeros_member(z: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of ``size`` zero bytes, compressed chunk by chunk (never held in memory)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as member:
        for _ in range(size // MIB):
            member.write(bytes(MIB))


def bomb(path: Path, size: int, name: str = "lab_results.csv") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for other, content in GOOD.items():
            if other != name:
                z.writestr(other, content)
        zeros_member(z, name, size)
    return path


def declare_size(path: Path, name: str, size: int) -> Path:
    """Rewrite the uncompressed size that the central directory declares for ``name`` (a lying header)."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")  # the first central directory entry
    while raw[at + 46:at + 46 + struct.unpack_from("<H", raw, at + 28)[0]] != name.encode():
        at = raw.index(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", raw, at + 24, size)
    path.write_bytes(bytes(raw))
    return path


def read_in_bounded_memory(source: Path) -> Problems:
    problems = Problems()
    tracemalloc.start()
    try:
        delivery = Delivery(source, problems)
        for stem in delivery.stems():
            delivery.get(stem)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * MIB, f"{peak / MIB:.0f} MiB"
    return problems


def test_zip_of_zeros_is_refused_by_its_ratio_before_it_is_read(tmp_path, current):  # noqa: F811
    archive = bomb(tmp_path / "bomb.zip", 128 * MIB)  # 128 KB on disk
    assert archive.stat().st_size < MIB
    problems = read_in_bounded_memory(archive)
    assert problems.items[0].file == "bomb.zip:lab_results.csv" and "expanding to 134,217,728" in str(problems.items[0].found)
    assert f"at most {limits.MAX_RATIO}:1" in problems.items[0].expected
    rejected(tmp_path, current, {}, source=archive)


def test_member_declaring_more_than_the_file_limit_is_refused_unread(tmp_path, current):  # noqa: F811
    archive = tmp_path / "declared.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in GOOD.items():
            z.writestr(name, content)
    declare_size(archive, "lab_results.csv", limits.MAX_FILE_BYTES + 1)
    error = rejected(tmp_path, current, {}, source=archive)
    assert error.problems[0].file == "declared.zip:lab_results.csv"
    assert f"{limits.MAX_FILE_BYTES + 1:,} bytes" in str(error.problems[0].found)


def test_member_whose_header_understates_its_size_is_not_expanded_past_it(tmp_path, current):  # noqa: F811
    archive = declare_size(bomb(tmp_path / "liar.zip", 64 * MIB), "lab_results.csv", 1000)
    problems = read_in_bounded_memory(archive)
    assert problems.items[0].file == "liar.zip:lab_results.csv"
    rejected(tmp_path, current, {}, source=archive)


def test_expanding_stops_at_the_limit_whatever_the_header_says(tmp_path):
    """zipfile itself stops at the declared size; the importer's own count is the second guard."""
    archive = bomb(tmp_path / "big.zip", 8 * MIB)
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo("lab_results.csv")
        info.file_size = 10**12  # as if the header declared a terabyte
        with pytest.raises(sources.Incomplete, match="more than 2,097,152 bytes"):
            sources._expand(z, info, 2 * MIB)


def test_total_declared_size_of_the_members_is_limited(monkeypatch, tmp_path, current):  # noqa: F811
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 3 * MIB)
    monkeypatch.setattr(limits, "MAX_RATIO", 10**6)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in GOOD.items():
            z.writestr(name, content)
        for i in range(2):
            zeros_member(z, f"extra{i}.csv", 2 * MIB)
    error = rejected(tmp_path, current, {}, source=archive)
    assert [p.file for p in error.problems] == ["many.zip"] and "4,194," in str(error.problems[0].found)


@pytest.mark.parametrize("name", ["lab_results.csv", "lb.xpt", "lb.parquet"])
def test_a_data_file_in_a_folder_larger_than_the_limit_is_not_read(monkeypatch, tmp_path, name):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 4 * MIB)
    big = tmp_path / "delivery" / name
    big.parent.mkdir()
    with big.open("wb") as f:
        f.truncate(4 * MIB + 1)  # sparse: nothing on disk
    problems = read_in_bounded_memory(big.parent)
    assert problems.items[0].file == name and f"{4 * MIB + 1:,} bytes" in str(problems.items[0].found)


def test_a_zip_larger_than_the_upload_limit_is_not_opened(monkeypatch, tmp_path, current):  # noqa: F811
    monkeypatch.setattr(limits, "MAX_ARCHIVE_BYTES", 100)
    archive = tmp_path / "large.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for name, content in GOOD.items():
            z.writestr(name, content)
    error = rejected(tmp_path, current, {}, source=archive)
    assert error.problems[0].file == "large.zip" and "at most 100 bytes" in error.problems[0].expected


def test_a_corrupt_member_is_a_problem_not_a_crash(tmp_path, current):  # noqa: F811
    archive = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in GOOD.items():
            z.writestr(name, content * 50)
    raw = bytearray(archive.read_bytes())
    at = raw.index(b"lab_results.csv") + len("lab_results.csv") + 40  # inside the member's deflate stream
    raw[at:at + 8] = zlib.compress(b"x")[:8]
    archive.write_bytes(bytes(raw))
    error = rejected(tmp_path, current, {}, source=archive)
    assert error.problems[0].file == "corrupt.zip:lab_results.csv"


def test_streamlit_upload_limit_is_the_archive_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * MIB == limits.MAX_ARCHIVE_BYTES
