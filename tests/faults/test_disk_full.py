"""The warehouse's disk fills up during a Delta write.

The table's folder is put on a small tmpfs (mounted over it, its files copied in), then the
disk is filled: once while a write has part of its data files on disk, once before a write
starts. The write fails with an error that says the disk is full and that nothing was
committed; every table still reads; after space is freed the same materialisation lands
once. Mounting needs root (or CAP_SYS_ADMIN), as on the CI machine.
"""

import errno
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from spark_jobs.disk_full import DiskFullError
from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from spark_jobs.schemas import ALL_TABLES
from tests.faults.lab import COMPARED, wait_paused

TABLE = "distinct_paths"  # written whole by the distinct_paths asset


@contextmanager
def small_disk(folder: Path, size: str = "16m"):
    """`folder` on a tmpfs of `size` for the block, with its files; put back on the real disk after."""
    outside = folder.with_name(folder.name + ".outside")
    shutil.copytree(folder, outside)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        shutil.rmtree(outside)
        pytest.fail(f"mounting a tmpfs needs root or CAP_SYS_ADMIN: {mounted.stderr.strip()}")
    try:
        shutil.copytree(outside, folder, dirs_exist_ok=True)
        yield folder
    finally:
        shutil.rmtree(outside)
        shutil.copytree(folder, outside)  # what the test's writes left there
        subprocess.run(["umount", str(folder)], check=True)
        shutil.rmtree(folder)
        outside.rename(folder)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no space left; the file, to free the space with."""
    filler = disk / "filler.bin"
    with open(filler, "wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    return filler


def test_a_full_disk_fails_the_write_clearly_and_a_retry_after_freeing_space_lands_once(lab, recorder, request,
                                                                                        tmp_path):
    folder = lab.location(TABLE)
    with small_disk(folder) as disk:
        with recorder.fault(request.node.name, "the disk fills up after part of a write's data files",
                            f"Dagster run of distinct_paths writing rft.{TABLE} (on a 16 MB tmpfs)"):
            version, before = lab.lake.version(TABLE), lab.data_files_on_disk(TABLE)
            run = lab.start_dagster(request.node.name, "distinct_paths", **arm(PAUSE_BEFORE_COMMIT, TABLE, tmp_path))
            wait_paused(tmp_path, run, lambda: lab.data_files_on_disk(TABLE) - before)
            filler = fill(disk)
            (tmp_path / "release").touch()  # the second task now writes its files: no space left

            assert run.wait(timeout=300) != 0
            log = run.log.read_text(errors="replace")
            assert f"rft.{TABLE}: the write failed because the disk is full" in log, log[-4000:]
            assert "Nothing was committed" in log
            assert_nothing_committed(lab, version)
            free_space_and_retry(lab, filler, version)

        with recorder.fault(request.node.name, "the disk is full when a write starts",
                            f"distinct_paths writing rft.{TABLE} (on a 16 MB tmpfs)"):
            version = lab.lake.version(TABLE)
            filler = fill(disk)
            result = lab.materialize("distinct_paths", raise_on_error=False)
            errors = [str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
            assert not result.success and any(DiskFullError.__name__ in e and "the disk is full" in e
                                               for e in errors), errors
            assert_nothing_committed(lab, version)
            free_space_and_retry(lab, filler, version)


def free_space_and_retry(lab, filler: Path, version: int) -> None:
    """The same materialisation once space is freed: one new version, the clean run's rows."""
    filler.unlink()
    lab.materialize("distinct_paths")
    assert lab.lake.version(TABLE) == version + 1
    diffs = lab.compare_with_clean(*COMPARED)
    assert all(d.clean for d in diffs), diffs


def assert_nothing_committed(lab, version: int) -> None:
    assert lab.lake.version(TABLE) == version
    assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
    diffs = lab.compare_with_clean(*COMPARED)
    assert all(d.clean for d in diffs), diffs
