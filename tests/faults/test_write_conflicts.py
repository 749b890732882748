"""Two writers on one table at once: which conflicts are retried, which are reported.

One replace is held open before its commit (`spark_jobs.fault_injection`) while another
writer commits; then it goes on and meets the other's commit. `rft.eval_results` is
partitioned by nothing, so Delta refuses the later of two replaces there even when they touch
different models. (On tables partitioned by model they pass: test_concurrent_backfills.py.)
A lost race is written again (the result is what running the two writes one after the
other gives); a read-modify-write whose input rows changed, or a write that meets a schema
change, is refused. Real Spark server, real Delta tables (the session's warehouse).
"""

import logging
import threading
import time

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from spark_jobs.fault_injection import PAUSE_BEFORE_COMMIT, arm
from spark_jobs.lakehouse import Lakehouse, where_equals
from spark_jobs.schemas import EVAL_RESULTS, TABLES, Table
from spark_jobs.write_conflicts import (
    ConcurrentWriteError,
    conflict_class,
    is_retryable,
)


def eval_rows(spark, model: str, accuracy: float):
    rows = [{"model": model, "stage": "sft", "training_set": "sft", "metric": metric, "n_test": 10,
             "n_correct": int(10 * accuracy), "accuracy": accuracy, "ci_low": 0.0, "ci_high": 1.0,
             "checkpoint": f"/ckpt/{model}", "run_id": "race", "seed": 42, "n_steps": 3, "n_tokens": 300,
             "grades": None, "scoring": "strict"} for metric in ("maj1@1", "maj1@4")]
    return spark.createDataFrame(pd.DataFrame(rows), schema=EVAL_RESULTS.required_schema)


class PausedReplace:
    """A replace in another thread, on its own Spark Connect session, held before its commit."""

    def __init__(self, url: str, folder, table: str, make_rows, where: str | None, **options):
        self.folder, self.error, self.written = folder, None, None
        self.lake = Lakehouse(SparkSession.builder.remote(url).create())
        rows = make_rows(self.lake.spark)
        self.thread = threading.Thread(target=self._write, args=(table, rows, where, options), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 300
        while not (folder / "paused").exists():
            assert self.thread.is_alive() and time.monotonic() < deadline, f"the write never paused: {self.error}"
            time.sleep(0.05)

    def _write(self, table, rows, where, options):
        try:
            self.written = self.lake.replace(table, rows, where, **options)
        except Exception as error:  # noqa: BLE001 - any failure is reported to the test
            self.error = error

    def release(self):
        (self.folder / "release").touch()
        self.thread.join(timeout=300)
        assert not self.thread.is_alive()
        self.lake.spark.stop()
        return self


@pytest.fixture
def lake(lake):
    """The session's lakehouse. The race-* rows and the scratch table these tests write are
    removed afterwards: the other tests on this warehouse (the e2e loop) count every model."""
    yield lake
    lake.spark.sql("DELETE FROM rft.eval_results WHERE model LIKE 'race-%'")
    lake.spark.sql("DROP TABLE IF EXISTS rft.race_scratch")


@pytest.fixture
def url(spark_resource):
    return spark_resource.server_config().url


@pytest.fixture
def armed(monkeypatch, tmp_path):
    def arm_table(table):
        for name, value in arm(PAUSE_BEFORE_COMMIT, table, tmp_path).items():
            monkeypatch.setenv(name, value)
        return tmp_path
    return arm_table


def rows_of(lake, table, model):
    return sorted(tuple(r) for r in lake.table(table).filter(where_equals(model=model)).drop("run_id").collect())


def test_a_replace_that_lost_the_race_to_another_model_is_retried_and_both_land(lake, url, armed, recorder,
                                                                                  request, caplog):
    with recorder.fault(request.node.name, "a replace of model x held open while model y's commits",
                        "rft.eval_results (not partitioned by model)"):
        paused = PausedReplace(url, armed("eval_results"), "eval_results",
                               lambda spark: eval_rows(spark, "race-x", 0.5), where_equals(model="race-x"))
        with caplog.at_level(logging.WARNING, logger="spark_jobs.lakehouse"):
            lake.replace("eval_results", eval_rows(lake.spark, "race-y", 0.3), where_equals(model="race-y"))
            paused.release()

        assert paused.error is None and paused.written == 2
        assert "DELTA_CONCURRENT_APPEND" in caplog.text  # Delta refused it once; the retry landed
        assert [r[6] for r in rows_of(lake, "eval_results", "race-x")] == [0.5, 0.5]
        assert [r[6] for r in rows_of(lake, "eval_results", "race-y")] == [0.3, 0.3]


def test_a_read_modify_write_whose_input_rows_changed_meanwhile_is_refused(lake, url, armed, recorder, request):
    lake.replace("eval_results", eval_rows(lake.spark, "race-z", 0.5), where_equals(model="race-z"))
    read_version = lake.version("eval_results")  # the rows below are computed from model race-z's rows then
    with recorder.fault(request.node.name, "another writer changes the rows a paused read-modify-write read",
                        "rft.eval_results"):
        paused = PausedReplace(url, armed("eval_results"), "eval_results",
                               lambda spark: eval_rows(spark, "race-z", 0.9), where_equals(model="race-z"),
                               read_version=read_version, read_where=where_equals(model="race-z"))
        lake.replace("eval_results", eval_rows(lake.spark, "race-z", 0.1), where_equals(model="race-z"))
        paused.release()

        assert isinstance(paused.error, ConcurrentWriteError)
        assert "another writer changed the rows this write was computed from (model = 'race-z')" in str(paused.error)
        # The other writer's rows, whole; nothing of the refused write.
        assert [r[6] for r in rows_of(lake, "eval_results", "race-z")] == [0.1, 0.1]


def test_a_write_that_meets_a_schema_change_is_refused(lake, url, armed, recorder, request, monkeypatch):
    scratch = Table(name="race_scratch", row="r", columns=(("model", "STRING", "m"), ("x", "INT", "x")),
                    key=("model",))
    monkeypatch.setitem(TABLES, scratch.name, scratch)
    lake.spark.sql(f"DROP TABLE IF EXISTS {scratch.qualified}")
    lake.spark.sql(scratch.create_sql())
    with recorder.fault(request.node.name, "a column added while a write is paused", scratch.qualified):
        paused = PausedReplace(url, armed(scratch.name), scratch.name,
                               lambda spark: spark.createDataFrame([("a", 1), ("b", 2)], scratch.schema), None)
        lake.spark.sql(f"ALTER TABLE {scratch.qualified} ADD COLUMNS (y INT)")
        paused.release()

        assert isinstance(paused.error, ConcurrentWriteError)
        assert "changed the table's schema or protocol (DELTA_METADATA_CHANGED)" in str(paused.error)
        assert lake.spark.table(scratch.qualified).count() == 0


class ConnectError(Exception):
    def __init__(self, condition, message=""):
        super().__init__(message)
        self.condition = condition

    def getCondition(self):
        return self.condition


@pytest.mark.parametrize("error, expected", [
    (ConnectError("DELTA_CONCURRENT_APPEND.WITHOUT_HINT"), "DELTA_CONCURRENT_APPEND"),
    (ConnectError("DELTA_METADATA_CHANGED"), "DELTA_METADATA_CHANGED"),
    (ConnectError(None, "(io.delta.exceptions.ConcurrentDeleteReadException) [...]"), "DELTA_CONCURRENT_DELETE_READ"),
    (ConnectError("TABLE_OR_VIEW_NOT_FOUND"), None),
    (ValueError("rows lack columns"), None),
])
def test_delta_conflicts_are_told_from_other_errors(error, expected):
    assert conflict_class(error) == expected


@pytest.mark.parametrize("conflict, retried", [
    ("DELTA_CONCURRENT_APPEND", True), ("DELTA_CONCURRENT_DELETE_READ", True),
    ("DELTA_METADATA_CHANGED", False), ("DELTA_PROTOCOL_CHANGED", False),
])
def test_data_conflicts_are_retried_and_schema_conflicts_are_not(conflict, retried):
    assert is_retryable(conflict) is retried
