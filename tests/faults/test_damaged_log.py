"""Damaged transaction logs: two torn commits and a missing checkpoint, found at the next start.

After a machine crash (the Spark server is killed) the latest commit of rft.distinct_paths is
truncated, that of rft.rft_dataset_rows overwritten with garbage, and the checkpoint of
rft.questions deleted. Every command and run then stops with an error naming a damaged table,
its commit and `rft repair`; nothing is read from a damaged log, so no row is dropped silently.
`rft repair` sets each torn commit aside, the tables read as the version before, and
re-materialising their assets brings back the clean run's rows. The missing checkpoint needs
nothing: Delta replays the JSON commits and every row of rft.questions is there.
"""

import subprocess
import sys
from contextlib import ExitStack

import pytest

from rft.home import PROJECT_ROOT
from spark_jobs.damaged_tables import DamagedTableError
from spark_jobs.schemas import ALL_TABLES
from tests.faults.lab import COMPARED

TORN = {"distinct_paths": "truncated", "rft_dataset_rows": "overwritten with garbage"}


def rft(lab, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rft_dagster.cli", *args], cwd=PROJECT_ROOT, env=lab.env(),
                          capture_output=True, text=True, timeout=300)


def latest_commit(lab, table: str):
    return sorted((lab.location(table) / "_delta_log").glob("*.json"))[-1]


def test_torn_commits_are_named_and_set_aside_and_a_missing_checkpoint_loses_nothing(lab, recorder, request):
    with ExitStack() as faults:
        for table, damage in TORN.items():
            faults.enter_context(recorder.fault(request.node.name, f"the latest _delta_log commit {damage}",
                                                f"rft.{table}, found at the next start"))
        faults.enter_context(recorder.fault(request.node.name, "the checkpoint file of _delta_log deleted",
                                            "rft.questions, read at the next start"))
        versions = {table: lab.lake.version(table) for table in TORN}
        questions_log = lab.location("questions") / "_delta_log"
        lab.lake.spark.sql("ALTER TABLE rft.questions SET TBLPROPERTIES ('delta.checkpointInterval' = '1')")
        checkpoints = list(questions_log.glob("*.checkpoint*.parquet"))
        assert checkpoints, sorted(p.name for p in questions_log.iterdir())

        truncated, garbled = (latest_commit(lab, table) for table in TORN)
        lab.kill_server()  # the machine crashed; its disk kept these damaged files
        truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
        garbled.write_bytes(b"\x00\xffnot a delta commit\n" * 20)
        for checkpoint in checkpoints:
            checkpoint.unlink()

        with pytest.raises(DamagedTableError, match="cannot be read: its transaction log is damaged"):
            lab.connect()  # what every Dagster run and command does first
        query = rft(lab, "sql", "SELECT count(*) FROM rft.distinct_paths")
        assert query.returncode == 3, query.stderr
        assert "rft.distinct_paths cannot be read" in query.stderr and "rft repair distinct_paths" in query.stderr
        assert "no rows were dropped silently" in query.stderr

        for table in TORN:
            repaired = rft(lab, "repair", table)
            assert repaired.returncode == 0, repaired.stderr
            assert f"now reads as version {versions[table] - 1}" in repaired.stdout
        lab.connect()
        assert {table: lab.lake.version(table) for table in TORN} == {t: v - 1 for t, v in versions.items()}
        assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
        assert lab.compare_with_clean("questions")[0].clean  # from the JSON commits, every row

        lab.materialize("distinct_paths")
        lab.materialize("rft_datasets")
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
        lab.manifests_pin_their_rows()
