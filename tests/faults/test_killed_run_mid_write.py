"""kill -9 of the process waiting on a write, while the Spark server is in the middle of it.

With Spark Connect the server does the writing; the client (a Dagster run, `rft`) only waits
for it. Killing the client mid-write leaves the write to the server, which finishes it: the
batch lands whole, once, and running the same materialisation again changes nothing.
"""

import time

from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from spark_jobs.schemas import ALL_TABLES
from tests.faults.lab import COMPARED, wait_paused


def wait_for_new_version(lab, table, version, timeout=120):
    deadline = time.monotonic() + timeout
    while lab.lake.version(table) == version:
        assert time.monotonic() < deadline, f"rft.{table} stayed at version {version}"
        time.sleep(0.2)
    return lab.lake.version(table)


def test_a_run_killed_mid_write_leaves_the_batch_whole(lab, recorder, request, tmp_path):
    table = "distinct_paths"
    before_version, before_files = lab.lake.version(table), lab.data_files_on_disk(table)
    with recorder.fault(request.node.name, "kill -9 of the client process while the server writes",
                        f"Dagster run of distinct_paths writing rft.{table}"):
        run = lab.start_dagster(request.node.name, "distinct_paths", **arm(PAUSE_BEFORE_COMMIT, table, tmp_path))
        wait_paused(tmp_path, run, lambda: lab.data_files_on_disk(table) - before_files)
        lab.kill_run(run)
        (tmp_path / "release").touch()  # the server goes on with the write nobody waits for

        assert wait_for_new_version(lab, table, before_version) == before_version + 1
        assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
        diffs = lab.compare_with_clean(*COMPARED)  # the batch is the clean run's: whole, once
        assert all(d.clean for d in diffs), diffs

        lab.materialize("distinct_paths")
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
