"""The same jobs on two executors give the same rows as in local mode.

A standalone Spark cluster (a master and two 1-core workers from the pyspark package,
`spark_jobs.cluster`) runs a second Spark Connect server on its own warehouse. A few
thousand synthetic paths of two models go through verification and dedup on both servers,
into Delta tables through `Lakehouse`, and the tables must match row for row.
"""

import hashlib
import random
import sys
import threading

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from spark_jobs.cluster import ClusterConfig, LocalCluster, free_port
from spark_jobs.distinct_paths import distinct_paths
from spark_jobs.lakehouse import Lakehouse, where_in
from spark_jobs.schemas import TABLES
from spark_jobs.server import ServerConfig, ensure_server
from spark_servers import GRACE_S, stop_test_server
from spark_jobs.verified_paths import verify_sampled_paths

MODELS = ("mx-model-a", "mx-model-b")  # prefixed: the local warehouse is shared with other tests
N_QUESTIONS, K = 50, 30  # 3,000 paths
PARTITIONS = 6  # several tasks per stage, so both executors get some
N_EXECUTORS = 2
JOB_TIMEOUT_S = 300  # a job that hangs (say, waiting for executors that never come) fails the test instead
SESSION_CONF = {"spark.databricks.delta.snapshotPartitions": "2"}  # small tables: not 50 tasks per table read
FILLERS = ["He buys", "so", "She makes", "in total", "First,", "then", "That gives", "Altogether", ""]


def synthetic_numbers() -> dict[str, tuple[int, int, int]]:
    """Question id -> (x, y, z) of "x bags of y apples and z more"; the answer is x*y+z."""
    rng = random.Random(2023)
    return {f"mx-q-{i:03d}": (rng.randint(2, 30), rng.randint(2, 30), rng.randint(1, 60)) for i in range(N_QUESTIONS)}


def synthetic_questions(numbers: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = [(qid, "train", f"{x} bags of {y} apples and {z} more?", f"#### {x * y + z}", str(x * y + z), "mx")
            for qid, (x, y, z) in numbers.items()]
    return pd.DataFrame(rows, columns=TABLES["questions"].column_names)


def path_text(rng: random.Random, x: int, y: int, z: int, kind: str) -> str | None:
    """One sampled completion; the same few equation lists recur, worded differently."""
    p, g = x * y, x * y + z
    lists = {
        "mul-add": [f"{x}*{y}=<<{x}*{y}={p}>>{p}", f"{p}+{z}=<<{p}+{z}={g}>>{g}"],
        "swapped": [f"{y}*{x}=<<{y}*{x}={p}>>{p}", f"{z}+{p}=<<{z}+{p}={g}>>{g}"],
        "one-step": [f"{x}*{y}+{z}=<<{x}*{y}+{z}={g}>>{g}"],
    }
    if kind == "malformed":
        return rng.choice([None, "", f"I think it is {g}.", f"<<{x}*=>>\n#### {g}", f"<<(((({x}=1>>\n#### {g}",
                           f"<<__import__('os').system('id')={g}>>\n#### {g}", f"<<9**99999999={g}>>\n#### {g}",
                           "#### twelve", f"<<{x}/0={g}>>\n#### {g}"])
    if kind == "verbatim":  # the exact same text from both models: a tie, broken by path_id
        return f"{lists['mul-add'][0]} {lists['mul-add'][1]}\n#### {g}"
    equations = lists[rng.choice(sorted(lists))]
    if kind == "false_equation":  # the first annotation's result off by one
        lhs, rhs = equations[0].split("<<")[1].split(">>")[0].split("=")
        equations = [equations[0].replace(f"<<{lhs}={rhs}>>", f"<<{lhs}={int(rhs) + 1}>>"), *equations[1:]]
    words = [f"{rng.choice(FILLERS)} {e}" for e in equations]
    answer = g + 1 if kind == "wrong_answer" else g
    return " ".join(words) + f" {rng.choice(FILLERS)}.\n#### {answer}"


def synthetic_sampled_paths(numbers: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rng = random.Random(20231)
    kinds = ["correct"] * 9 + ["wrong_answer"] * 3 + ["false_equation"] * 3 + ["malformed"] * 3 + ["verbatim"]
    rows = []
    for model in MODELS:
        for qid, (x, y, z) in numbers.items():
            question = qid if rng.random() > 0.04 else f"{qid}-unknown"  # a question the table lacks
            for idx in range(K):
                path_id = hashlib.sha1(f"{model}|{question}|{idx}".encode()).hexdigest()
                body = path_text(rng, x, y, z, rng.choice(kinds))
                rows.append((path_id, model, question, idx, 1000 + idx, 0.7, body, "synthetic", "mx"))
    return pd.DataFrame(rows, columns=TABLES["sampled_paths"].required_columns)


def run_jobs(lake: Lakehouse, questions: pd.DataFrame, sampled: pd.DataFrame) -> dict[str, list]:
    """Write the inputs, verify and dedup into the Delta tables; every written row, sorted by key."""
    spark = lake.spark
    in_questions = where_in("question_id", list(questions.question_id))
    in_models = where_in("model", list(MODELS))
    lake.replace("questions", spark.createDataFrame(questions, TABLES["questions"].schema), in_questions)
    lake.replace("sampled_paths", spark.createDataFrame(sampled, TABLES["sampled_paths"].required_schema), in_models)

    paths = lake.table("sampled_paths").filter(in_models).repartition(PARTITIONS, "path_id")
    lake.replace("verified_paths", verify_sampled_paths(paths, lake.table("questions")), in_models)
    verified = lake.table("verified_paths").filter(in_models).repartition(PARTITIONS, "path_id")
    lake.replace("distinct_paths", distinct_paths(verified), in_questions, materialise=True)

    written = {"verified_paths": in_models, "distinct_paths": in_questions}
    return {
        name: sorted(lake.table(name).filter(where).collect(), key=lambda r: tuple(r[k] for k in TABLES[name].key))
        for name, where in written.items()
    }


def delete_test_rows(lake: Lakehouse) -> None:
    """The local warehouse is the test session's: leave it as this module found it."""
    for name, column in [("questions", "question_id"), ("sampled_paths", "model"),
                         ("verified_paths", "model"), ("distinct_paths", "question_id")]:
        lake.spark.sql(f"DELETE FROM {TABLES[name].qualified} WHERE {column} LIKE 'mx-%'")


class InOwnSession(threading.Thread):
    """`work(lake)` on a new Connect session, in a thread of its own where it is the active session.

    Spark Connect binds a checkpoint's DataFrame (`Lakehouse.replace(materialise=True)`) to the
    thread's active session, so two servers used from one process need a session per thread.
    """

    def __init__(self, url: str, work):
        super().__init__(daemon=True)  # a hung job fails the test below instead of keeping pytest alive
        self.url, self.work, self.value, self.error = url, work, None, None
        self.start()

    def run(self) -> None:
        try:
            spark = SparkSession.builder.remote(self.url).create()  # a new thread: its active session
            try:
                for key, value in SESSION_CONF.items():
                    spark.conf.set(key, value)
                self.value = self.work(Lakehouse(spark))
            finally:
                spark.stop()
        except BaseException as exc:  # handed to result(), in the test's thread
            self.error = exc

    def result(self, timeout_s: float = JOB_TIMEOUT_S):
        self.join(timeout_s)
        if self.is_alive():
            raise TimeoutError(f"{self.url} gave no result in {timeout_s:.0f} s (server logs: <warehouse>/_spark/)")
        if self.error is not None:
            raise self.error
        return self.value


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    cfg = ClusterConfig(root=root, workers=N_EXECUTORS, port=free_port(), webui_port=free_port(), start_timeout_s=90)
    with LocalCluster(cfg) as running:  # stops master, workers and executors whatever happens
        yield running
        running.stop(timeout_s=GRACE_S)  # the cluster's work is thrown away: see tests/spark_servers.py


@pytest.fixture(scope="module")
def cluster_url(cluster, tmp_path_factory):
    """A second Spark Connect server, on its own warehouse, whose master is the cluster."""
    cfg = ServerConfig(
        warehouse=tmp_path_factory.mktemp("cluster_warehouse"), master=cluster.master_url, port=free_port(),
        driver_memory="1g", start_timeout_s=180,
        extra_conf=(("spark.scheduler.minRegisteredResourcesRatio", "1.0"),),  # jobs wait for both executors
    )
    try:
        url = ensure_server(cfg)
        cluster.wait_for_executors(N_EXECUTORS, timeout_s=90)
        InOwnSession(url, Lakehouse.ensure_tables).result()
        yield url
    finally:
        stop_test_server(cfg)


@pytest.fixture(scope="module")
def local_url(spark_resource, lake):
    """The test session's local-mode server (`lake` has started it and made the tables)."""
    return spark_resource.server_config().url


def test_python_workers_on_every_executor_run_the_projects_interpreter(cluster_url):
    def where_am_i(ids: pd.Series) -> pd.Series:  # nested: pickled by value, the workers lack this test module
        """Per row, "<executor id>|<python>": a Python worker runs in its executor's work dir."""
        import os
        import sys

        import rft.filter.equation_dedup  # noqa: F401  (the project, and rapidfuzz that the dedup UDF uses)

        return pd.Series([f"{os.path.basename(os.path.dirname(os.getcwd()))}|{sys.executable}"] * len(ids))

    def workers_seen(lake: Lakehouse) -> set[str]:
        udf = F.pandas_udf(where_am_i, "string")  # made in the session's thread, like the jobs' UDFs
        spread = lake.spark.range(0, 600, numPartitions=PARTITIONS).select(udf("id").alias("w"))
        return {row.w for row in spread.distinct().collect()}

    seen = InOwnSession(cluster_url, workers_seen).result()
    assert len({w.split("|")[0] for w in seen}) == N_EXECUTORS, seen
    assert {w.split("|")[1] for w in seen} == {sys.executable}


def test_two_executors_give_the_same_tables_as_local_mode(local_url, cluster_url, cluster):
    numbers = synthetic_numbers()
    questions, sampled = synthetic_questions(numbers), synthetic_sampled_paths(numbers)

    def in_local_mode(lake: Lakehouse) -> dict[str, list]:
        try:
            return run_jobs(lake, questions, sampled)
        finally:
            delete_test_rows(lake)

    # Both servers at once: much of a run is round trips and scheduling, so they overlap well.
    local = InOwnSession(local_url, in_local_mode)
    spread = InOwnSession(cluster_url, lambda lake: run_jobs(lake, questions, sampled))
    local, spread = local.result(), spread.result()

    for name in local:
        assert len(spread[name]) == len(local[name]), name
        differing = [(a, b) for a, b in zip(local[name], spread[name]) if a != b]
        assert not differing, f"{name}: {len(differing)} rows differ, e.g. local vs cluster {differing[:2]}"

    # The input exercises every branch: kept, rejected for each reason, and merged across models.
    reasons = {r.reject_reason or "" for r in local["verified_paths"]}
    assert {"", "wrong_answer", "no_answer", "unknown_question"} <= reasons
    assert any(r.endswith(":false_equation") for r in reasons)
    union = [r for r in local["distinct_paths"] if r.pool == "union"]
    assert any(r.producer_models == list(MODELS) for r in union) and any(r.n_producers > 2 for r in union)

    # Spark's side: both executors of the cluster ran tasks.
    finished = {log.parent.name: log.read_text(errors="replace").count("Finished task") for log in cluster.executor_logs()}
    assert len(finished) == N_EXECUTORS and all(finished.values()), finished
