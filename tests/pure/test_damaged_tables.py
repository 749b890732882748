"""Damaged Delta logs: which commit, why, what to do, and setting aside the latest.

`delta_log_sample/` holds two commits and their checksum files exactly as Spark and Hadoop
wrote them (a table created with two columns, then one row inserted).
"""

import shutil
from pathlib import Path

import pytest

from spark_jobs.damaged_tables import (
    DamagedTableError,
    check_commit,
    check_tables,
    damaged_commits,
    damaged_version_in,
    describe,
    local_location_in,
    looks_like_damaged_log,
    set_aside_latest,
)

SAMPLE = Path(__file__).parent / "delta_log_sample"
COMMIT_0 = "00000000000000000000.json"
COMMIT_1 = "00000000000000000001.json"


@pytest.fixture
def table(tmp_path):
    location = tmp_path / "rft.db" / "distinct_paths"
    shutil.copytree(SAMPLE, location)
    return location


def test_an_intact_log_has_no_damaged_commit(table):
    assert check_commit(table / "_delta_log" / COMMIT_0) is None
    assert damaged_commits(table) == []
    check_tables(table.parent, ["distinct_paths", "no_such_table"], "rft")  # nothing raised


def test_a_commit_truncated_at_a_line_end_still_fails_its_checksum(table):
    commit = table / "_delta_log" / COMMIT_1
    commit.write_bytes(commit.read_bytes().splitlines(keepends=True)[0])  # valid JSON, rows gone
    assert "checksum" in check_commit(commit)


def test_without_a_checksum_file_the_json_is_checked(table):
    commit = table / "_delta_log" / COMMIT_1
    (table / "_delta_log" / f".{COMMIT_1}.crc").unlink()
    commit.write_bytes(commit.read_bytes()[:100])
    assert check_commit(commit) == "line 1 is not JSON"
    commit.write_bytes(b"")
    assert check_commit(commit) == "it is empty"
    commit.write_bytes(b'{"add": {}}\n[1, 2]\n')
    assert check_commit(commit) == "line 2 is not a Delta action"


def test_a_damaged_latest_commit_is_named_with_the_way_back(table):
    (table / "_delta_log" / COMMIT_1).write_bytes(b"\x00garbage\xff" * 30)
    with pytest.raises(DamagedTableError) as error:
        check_tables(table.parent, ["distinct_paths"], "rft")
    message = str(error.value)
    assert "rft.distinct_paths cannot be read" in message and "commit 1" in message
    assert "rft repair distinct_paths" in message and "version 0" in message and "RESTORE TABLE" in message


def test_setting_aside_the_latest_commit_moves_its_files_and_deletes_nothing(table):
    (table / "_delta_log" / COMMIT_1).write_bytes(b"not json")
    damaged = set_aside_latest(table)
    assert damaged.version == 1
    assert sorted(p.name for p in (table / "_delta_log").iterdir()) == [f".{COMMIT_0}.crc", COMMIT_0]
    assert sorted(p.name for p in (table / "_damaged_log").iterdir()) == [f".{COMMIT_1}.crc", COMMIT_1]
    assert damaged_commits(table) == []


def test_a_damaged_commit_under_later_ones_is_not_set_aside(table):
    (table / "_delta_log" / COMMIT_0).write_bytes(b"not json")
    assert "from a backup" in describe("rft.distinct_paths", table, "")
    with pytest.raises(DamagedTableError, match="gap in the log"):
        set_aside_latest(table)
    with pytest.raises(DamagedTableError, match="no damaged commit"):
        set_aside_latest(_intact(table))


def _intact(table: Path) -> Path:
    other = table.parent / "intact"
    shutil.copytree(SAMPLE, other)
    return other


def test_a_checkpointed_commit_is_not_read_on_load(table):
    """Delta starts from the last checkpoint: damage before it does not stop a load."""
    log = table / "_delta_log"
    (log / "00000000000000000001.checkpoint.parquet").write_bytes(b"PAR1")
    (log / "_last_checkpoint").write_text('{"version": 1, "size": 3}')
    (log / COMMIT_0).write_bytes(b"not json")
    check_tables(table.parent, ["distinct_paths"], "rft")
    (log / "00000000000000000001.checkpoint.parquet").unlink()  # missing: Delta replays every commit
    with pytest.raises(DamagedTableError):
        check_tables(table.parent, ["distinct_paths"], "rft")


SPARK_ERROR = ("org.apache.hadoop.fs.ChecksumException: Checksum error: "
               "file:/w/tables/rft.db/verified_paths/_delta_log/00000000000000000012.json at 0 exp: 1 got: 2")


def test_spark_errors_about_the_log_name_the_table_folder_and_the_commit():
    assert looks_like_damaged_log(SPARK_ERROR)
    assert damaged_version_in(SPARK_ERROR) == 12
    assert local_location_in(SPARK_ERROR) == Path("/w/tables/rft.db/verified_paths")
    assert not looks_like_damaged_log("[TABLE_OR_VIEW_NOT_FOUND] rft.nope")
    assert not looks_like_damaged_log("ChecksumException in part-0001.snappy.parquet")
    message = describe("rft.verified_paths", None, SPARK_ERROR)
    assert "commit 12" in message and "Spark could not read it" in message
