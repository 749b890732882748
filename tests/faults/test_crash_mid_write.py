"""kill -9 of the Spark server in the middle of each write that matters.

Four Dagster runs, each in its own process, write sampled paths, verified paths, distinct
paths and a training-set manifest. Each write is held after its first data files are on disk
and before its Delta commit (`spark_jobs.fault_injection`); then the server's JVM is killed,
and with it the runs waiting on it, as when the machine goes down. After a restart every
table reads, each table being written holds exactly the rows it held before (the data files
on disk are not part of it), and running the same materialisations again ends with exactly
the clean run's rows.
"""

from contextlib import ExitStack

from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from spark_jobs.lakehouse import where_equals
from spark_jobs.schemas import ALL_TABLES, TABLES
from tests.faults.lab import A, COMPARED, EXT, wait_paused

WRITES = [  # the table whose write is crashed, the asset that writes it, its partition
    ("sampled_paths", "sampled_paths", A),  # A's first sampling: none of its paths in the table yet
    ("verified_paths", "verified_paths", EXT),
    ("distinct_paths", "distinct_paths", None),
    ("rft_datasets", "rft_datasets", None),  # the manifests, after the commit of their rows
]


def test_a_server_killed_while_writes_wait_for_their_commit_loses_and_duplicates_nothing(lab, recorder, request,
                                                                                         tmp_path):
    sampled = TABLES["sampled_paths"]
    lab.lake.replace("sampled_paths", lab.lake.spark.createDataFrame([], sampled.schema), where_equals(model=A))
    before = {table: (lab.rows(table), lab.lake.version(table), lab.data_files_on_disk(table))
              for table, _, _ in WRITES}
    with ExitStack() as faults:
        for table, asset, partition in WRITES:
            faults.enter_context(recorder.fault(
                request.node.name, "kill -9 of the Spark server after data files, before the commit (one kill, "
                f"{len(WRITES)} writes held)", f"rft.{table}, written by {asset}" + (f"[{partition}]" if partition else "")))
        runs = {table: lab.start_dagster(f"crash-{table}", asset, partition,
                                         **arm(PAUSE_BEFORE_COMMIT, table, tmp_path / table))
                for table, asset, partition in WRITES}
        written = {table: wait_paused(tmp_path / table, run, lambda t=table: lab.data_files_on_disk(t) - before[t][2])
                   for table, run in runs.items()}
        lab.kill_server()
        for run in runs.values():
            lab.kill_run(run)
        lab.connect()  # a fresh server on the same warehouse

        assert set(lab.every_table_reads()) == {t.name for t in ALL_TABLES}
        for table, (rows, version, _) in before.items():
            assert lab.lake.version(table) == version, table
            assert sorted(map(repr, lab.rows(table))) == sorted(map(repr, rows)), table
            assert all(f.exists() for f in written[table])  # the killed write's files are on disk ...
            assert not set(written[table]) & lab.data_files_read(table)  # ... and not in the table
        lab.manifests_pin_their_rows()

        for table, asset, partition in WRITES:
            lab.materialize(asset, partition=partition)
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
        lab.manifests_pin_their_rows()
