"""16 readers while a backfill writes: every read sees a committed snapshot.

The backfill is a re-import of model EXT's generations (`rft import`: its sampled and verified
paths, then the distinct paths and training sets of every model), which rewrites those rows
in new Delta versions with the same content. Meanwhile 8 readers run statements the way
`rft sql` does (its `run_sql`) and 8 run the kind of joins and aggregates dbt's models run,
each on its own Spark Connect session, over and over until the import is done. A read that
saw part of a commit, or no rows between a delete and an insert, would differ from the
clean answer; every read must equal it, and none may fail.

Each reader pauses between reads, starting at its own offset: the 16 sessions stay open and
read throughout the import, but a read costs the server most of a CPU-second, and 16 back to back
on two cores (CI's machine) made a one-minute import take seven.
"""

import threading

from pyspark.sql import SparkSession

from rft_dagster.definitions import build_definitions
from rft_dagster.importing import import_generations
from rft_dagster.sql_console import run_sql
from spark_jobs.lakehouse import to_pandas
from tests.faults.lab import COMPARED, EXT

SQL_CONSOLE = [  # what people type into `rft sql`
    f"SELECT count(*) AS n FROM rft.sampled_paths WHERE model = '{EXT}'",
    f"SELECT is_correct, count(*) AS n FROM rft.verified_paths WHERE model = '{EXT}' GROUP BY is_correct",
    "SELECT pool, count(*) AS n FROM rft.distinct_paths GROUP BY pool",
    "SELECT dataset, n_rft_rows FROM rft.rft_datasets",
]
DBT_STYLE = [  # joins and aggregates of the kind the staging views and marts run
    "SELECT v.model, count(DISTINCT v.question_id) AS solved FROM rft.verified_paths v "
    "JOIN rft.questions q ON q.question_id = v.question_id WHERE v.is_correct GROUP BY v.model",
    "SELECT d.pool, count(*) AS paths, count(DISTINCT d.question_id) AS questions "
    "FROM rft.distinct_paths d JOIN rft.questions q USING (question_id) GROUP BY d.pool",
    "SELECT r.dataset, count(*) AS n FROM rft.rft_dataset_rows r JOIN rft.rft_datasets m USING (dataset) "
    "GROUP BY r.dataset",
]
READERS = 16
PAUSE_S = 12.0  # between one reader's reads: about 1.3 reads a second from all 16


def answer(spark, statement: str, console: bool) -> list:
    if console:
        frame = next(iter(run_sql(spark, statement, limit=0))).frame
    else:
        frame = to_pandas(spark.sql(statement))
    return sorted(map(tuple, frame.astype(str).itertuples(index=False)))


def test_sixteen_readers_during_a_backfill_see_only_committed_snapshots(lab, recorder, request):
    url = lab.resource.server_config().url
    statements = [(s, True) for s in SQL_CONSOLE] + [(s, False) for s in DBT_STYLE]
    expected = {s: answer(lab.lake.spark, s, console) for s, console in statements}
    versions = {t: lab.lake.version(t) for t in ("sampled_paths", "verified_paths", "distinct_paths")}
    done, reads, during, errors, wrong = threading.Event(), [0] * READERS, [0] * READERS, [], []

    def reader(i: int) -> None:
        spark = SparkSession.builder.remote(url).create()
        mine = [s for s in statements if s[1] == (i < READERS // 2)]
        try:
            done.wait(PAUSE_S * i / READERS)
            while not done.is_set() or reads[i] < len(mine):
                statement, console = mine[reads[i] % len(mine)]
                importing = not done.is_set()
                got = answer(spark, statement, console)
                if got != expected[statement]:
                    wrong.append((statement, got))
                reads[i] += 1
                during[i] += importing
                done.wait(PAUSE_S)
        except Exception as error:  # noqa: BLE001 - every failure is a finding of this test
            errors.append(f"reader {i}: {error!r}"[:2000])
        finally:
            spark.stop()

    with recorder.fault(request.node.name, f"{READERS} concurrent readers (rft sql and dbt-style queries)",
                        f"during rft import of {EXT} (sampled, verified, distinct paths, training sets)"):
        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(READERS)]
        for thread in threads:
            thread.start()
        gens, questions = lab.import_files
        try:
            with lab.instance() as instance:
                import_generations([str(gens)], str(questions), instance=instance,
                                   defs=build_definitions(lab.resources()))
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=300)

        assert not errors, errors
        assert not wrong, wrong[:5]
        assert all(n > 0 for n in during), during  # every reader read while the import wrote
        # the import did write while they read: each table got new versions
        assert all(lab.lake.version(t) > v for t, v in versions.items()), versions
        diffs = lab.compare_with_clean(*COMPARED)
        assert all(d.clean for d in diffs), diffs
