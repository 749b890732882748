"""The Spark server killed -9 while `dbt build` runs the marts.

A clean `marts_job` first gives every mart's rows. A second one runs as its own Dagster run;
once dbt has built a few models the lab's Spark server is killed and started again. The run
fails (its Spark session died with the server); the retry rebuilds every mart whole: each
one's rows equal the clean build's, and every table of the lakehouse still reads.
"""

import sys
import time

from rft_dagster.dbt_project import mart_names
from spark_jobs.schemas import ALL_TABLES
from tests.faults.lab import COMPARED

MARTS = "rft_marts"  # dbt/profiles.yml


def mart_rows(lab) -> dict[str, list]:
    return {mart: sorted(map(tuple, lab.lake.spark.table(f"{MARTS}.{mart}").collect()), key=repr)
            for mart in mart_names()}


def wait_for_models(run, n: int, timeout: float = 600) -> None:
    """Until the run's log shows `n` dbt models materialised (dbt is partway through its build)."""
    deadline = time.monotonic() + timeout
    while run.log.read_text(errors="replace").count("ASSET_MATERIALIZATION") < n:
        assert run.poll() is None, f"the run ended before {n} models:\n{run.log.read_text(errors='replace')[-4000:]}"
        assert time.monotonic() < deadline, f"fewer than {n} models after {timeout} s"
        time.sleep(0.2)


def test_spark_killed_during_dbt_build_then_the_retry_rebuilds_every_mart_whole(lab, recorder, request):
    lab.execute("marts_job")
    clean = mart_rows(lab)
    with recorder.fault(request.node.name, "kill -9 of the Spark server during dbt build",
                        "marts_job (dbt build of the staging views and marts)"):
        run = lab.start("marts-killed", [sys.executable, "-m", "dagster", "job", "execute",
                                         "-m", "rft_dagster.definitions", "-j", "marts_job"])
        wait_for_models(run, 3)
        lab.kill_server()
        # Started again at once, as the next `rft` command would: dbt's Spark Connect client would
        # otherwise retry a dead port for minutes. Its session died with the old server.
        lab.connect()
        assert run.wait(timeout=600) != 0, run.log.read_text(errors="replace")[-4000:]
        assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
        lab.execute("marts_job")
        assert mart_rows(lab) == clean
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
