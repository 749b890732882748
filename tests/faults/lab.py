"""The fault lab: a warehouse whose Spark server the tests may kill, runs started as real processes.

One lab serves every fault test. It has its own RFT_HOME (warehouse, checkpoints, runs), its
own Spark Connect server (a kill here leaves the session's other server alone), a Dagster
instance on disk that the runs started as processes share, and the rows of a clean run of
the whole loop (a tiny model sampled by the pipeline, two models' generations imported)
to compare every table with after a fault.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import yaml
from dagster import DagsterInstance, materialize

from assets.training_sets import rft_datasets
from assets.eval_results import eval_results
from assets.filtering import distinct_paths, verified_paths
from assets.questions import questions
from assets.sampled_paths import sampled_paths
from assets.checkpoints import rft_model, sft_model
from rft.home import PROJECT_ROOT
from rft_dagster.definitions import build_definitions
from rft_dagster.importing import import_generations
from rft_dagster.job_runs import run_job
from rft_dagster.resources import RftSettings, SparkResource, StepRunner
from spark_jobs.lakehouse import Lakehouse, to_pandas, where_equals
from spark_jobs.schemas import ALL_TABLES, TABLES
from spark_jobs.server import read_state
from tests.faults.reliability import Recorder, RowDiff, diff_rows

# Task slots: held writes each keep one busy until the test lets them go (or kills the server).
MASTER = "local[6]"
A = "small-a"  # a model the pipeline trains and samples
EXT, EXT2 = "ext", "ext-2"  # models whose generations are imported (made elsewhere)
N_TRAIN, K = 16, 2  # train questions, samples per question
TINY = {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
        "intermediate_size": 128}
CONFIG = {
    "task": {"source": "embedded", "n_train": N_TRAIN, "n_test": 4},
    # Batches and resume chunks of 4 paths: a sampling job makes 8 chunks, so it can be killed midway.
    "sampling": {"k": K, "temperature": 1.0, "max_new_tokens": 24, "batch_size": 4, "resume_chunk_rows": 4},
    "evaluation": {"max_new_tokens": 24, "batch_size": 8},
    "sft_training": {"epochs": 1, "learning_rate": 0.003, "global_batch_size": 8, "micro_batch_size": 8},
    "rft_training": {"epochs": 1, "learning_rate": 0.003, "global_batch_size": 8, "micro_batch_size": 8},
    "models": {
        A: {"source": "tiny", "tiny": "tiny-llama-a", "overrides": TINY, "vocab_size": 300},
    },
}
ASSETS = {a.key.path[-1]: a for a in (questions, sft_model, sampled_paths, verified_paths, distinct_paths,
                                      rft_datasets, rft_model, eval_results)}
# Columns that name the run or the time, not the data: left out when comparing with the clean run.
VOLATILE = {"sampled_paths": {"run_id"}, "rft_datasets": {"created_run_id", "table_versions", "rows_version"},
            "models": {"checkpoint", "seconds", "tokens_per_s", "run_id", "data_manifest"},
            "eval_results": {"checkpoint", "run_id"}}
COMPARED = ("questions", "sampled_paths", "verified_paths", "distinct_paths", "rft_datasets", "rft_dataset_rows")


def external_generations(train: list[dict]) -> list[dict]:
    """Generations of two models run elsewhere, per question: EXT's 3 correct (2 equation lists)
    and 2 wrong, EXT2's 2 correct (one equation list of its own) and 1 wrong."""
    rows = []
    for q in train:
        gold, answer = q["answer_text"], q["gold_answer"]
        wrong_answer = gold.rsplit("####", 1)[0] + f"#### {int(answer) + 1}"
        texts = {
            EXT: [gold,
                  "Step by step. " + gold,  # same equations: one distinct path with the first
                  "Check: <<2*1=2>>2.\n" + gold,  # one more true equation: a second distinct path
                  wrong_answer,
                  "First, <<1+1=3>>3.\n" + gold],  # a false annotation
            EXT2: [gold, "Check: <<3*1=3>>3.\n" + gold, wrong_answer],
        }
        rows += [{"model": model, "question_id": q["question_id"], "sample_idx": i, "text": t}
                 for model, model_texts in texts.items() for i, t in enumerate(model_texts)]
    return rows


@dataclass
class Lab:
    home: Path
    port: int
    recorder: Recorder
    clean: dict[str, list[dict]] = field(default_factory=dict)
    import_files: tuple[Path, Path] | None = None  # EXT's and EXT2's generations, and their questions
    resource: SparkResource | None = None
    lake: Lakehouse | None = None
    _locations: dict[str, Path] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.home / "config.yaml"

    # --- the warehouse and its server -------------------------------------------------------
    def connect(self) -> Lakehouse:
        """A client on the warehouse's server, starting the server if it is not running."""
        self.resource = SparkResource(warehouse=str(self.home / "warehouse"), port=self.port, master=MASTER,
                                      driver_memory="1g")
        self.lake = self.resource.lakehouse()
        return self.lake

    def server_pid(self) -> int:
        return int(read_state(self.resource.server_config())["pid"])

    def kill_server(self) -> None:
        """kill -9 of the Spark server's JVM: no shutdown hook, no cleanup, as in a crash."""
        pid = self.server_pid()
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)  # reap it when this process started it (connect)
        except ChildProcessError:
            while psutil.pid_exists(pid):
                time.sleep(0.05)
        # The client session died with its server; closing it must not try to reach the server.
        self.lake.spark.release_session_on_close = False
        self.lake.spark.stop()
        self.lake = None

    def stop(self) -> None:
        if self.lake is not None:
            self.lake.spark.stop()
        from spark_servers import stop_test_server

        stop_test_server(self.resource.server_config())

    # --- runs ---------------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a process that works in this lab (RFT_HOME, config, server, Dagster)."""
        env = {**os.environ, "RFT_HOME": str(self.home), "RFT_CONFIG": str(self.config),
               "RFT_SPARK_PORT": str(self.port), "RFT_SPARK_MASTER": MASTER,
               "DAGSTER_HOME": str(self.home / "dagster"),
               "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
        env.pop("RFT_SPARK_REMOTE", None)
        env.pop("RFT_TEST_FAULT", None)
        return {**env, **extra}

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        """A command in its own process group (killed whole with `kill_run`), output to logs/<name>.log."""
        log = self.home / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=self.env(**env), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        proc.log = log
        return proc

    def start_dagster(self, name: str, select: str, partition: str | None = None, **env: str) -> subprocess.Popen:
        """`dagster asset materialize` of `select` as its own process: a Dagster run on the lab's instance."""
        args = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "rft_dagster.definitions",
                "--select", select,
                # Every step in the run's process, so the process we kill is the one that writes.
                "--config-json", json.dumps({"execution": {"config": {"in_process": {}}}})]
        return self.start(name, args + (["--partition", partition] if partition else []), **env)

    @staticmethod
    def kill_run(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    @staticmethod
    def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
        """Wait for a run; its output. Fails the test when the run failed."""
        rc = proc.wait(timeout=timeout)
        output = proc.log.read_text(errors="replace")
        assert rc == 0, f"{proc.args[3:8]} exited with {rc}:\n{output[-4000:]}"
        return output

    def resources(self) -> dict:
        return {"spark": self.resource, "settings": RftSettings(config_file=str(self.config), home=str(self.home)),
                "steps": StepRunner()}

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home / "dagster"))

    def materialize(self, *names: str, partition: str | None = None, raise_on_error: bool = True):
        """Materialise assets in this process (a Dagster run on the lab's instance)."""
        with self.instance() as instance:
            return materialize([ASSETS[n] for n in names], partition_key=partition, instance=instance,
                               resources=self.resources(), raise_on_error=raise_on_error)

    def execute(self, job: str, partition: str | None = None) -> None:
        with self.instance() as instance:
            run_job(build_definitions(self.resources()), job, instance, partition)

    # --- what the tables hold -------------------------------------------------------------------
    def rows(self, table: str) -> list[dict]:
        """Every row, without the columns that name runs, in a comparable form."""
        drop = VOLATILE.get(table, set())
        return [{k: _plain(v) for k, v in row.asDict(recursive=True).items() if k not in drop}
                for row in self.lake.table(table).collect()]

    def snapshot(self) -> dict[str, list[dict]]:
        return {table: self.rows(table) for table in COMPARED}

    def compare_with_clean(self, *tables: str) -> list[RowDiff]:
        """Each table vs the clean run's, recorded for the report."""
        return [self.recorder.record(diff_rows(t, TABLES[t].key, self.clean[t], self.rows(t))) for t in tables]

    def manifests_pin_their_rows(self) -> None:
        """Every training set's manifest counts exactly the rows at the version it pins."""
        for manifest in self.lake.table("rft_datasets").collect():
            version = manifest["rows_version"]
            rows = self.lake.table("rft_dataset_rows", version).filter(where_equals(dataset=manifest["dataset"]))
            assert rows.count() == manifest["n_rft_rows"], manifest["dataset"]

    def every_table_reads(self) -> dict[str, int]:
        return {table.name: self.lake.count(table.name) for table in ALL_TABLES}

    def location(self, table: str) -> Path:
        """The table's folder (asked once: listing it must work while the server is down)."""
        if table not in self._locations:
            detail = self.lake.spark.sql(f"DESCRIBE DETAIL {TABLES[table].qualified}").collect()[0]
            self._locations[table] = Path(detail["location"].removeprefix("file:"))
        return self._locations[table]

    def data_files_on_disk(self, table: str) -> set[Path]:
        return {p for p in self.location(table).rglob("*.parquet") if "_delta_log" not in p.parts}

    def data_files_read(self, table: str) -> set[Path]:
        """The data files of the table's current version."""
        rows = self.lake.table(table).select("_metadata.file_path").distinct().collect()
        return {Path(r[0].removeprefix("file:")) for r in rows}


def wait_paused(folder: Path, proc: subprocess.Popen, new_files, timeout: float = 300) -> list[Path]:
    """Wait until a paused write (spark_jobs.fault_injection) has complete data files on disk.

    `new_files()` lists the data files on disk that were not there before the write started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (rc {proc.returncode}) before its write paused:\n"
                                 f"{proc.log.read_text(errors='replace')[-4000:]}")
        if (folder / "paused").exists():
            complete = [p for p in new_files() if _complete_parquet(p)]
            if complete:
                return complete
        time.sleep(0.1)
    raise AssertionError(f"no paused write after {timeout} s: {proc.log.read_text(errors='replace')[-4000:]}")


def _complete_parquet(path: Path) -> bool:
    try:
        pq.read_metadata(path)
        return True
    except Exception:
        return False


def _plain(value):
    """Rows as plain values: Spark's Row/ndarray-free, order-stable maps."""
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def clean_lab(home: Path, port: int, recorder: Recorder) -> Lab:
    """A lab after a clean run: A trained, sampled and verified; EXT's and EXT2's generations
    imported (which verifies them and materialises distinct_paths and rft_datasets)."""
    (home / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    (home / "dagster").mkdir()
    lab = Lab(home=home, port=port, recorder=recorder)
    lab.connect()
    with lab.instance() as instance:
        instance.add_dynamic_partitions("models", [A])
    lab.execute("questions_job")
    lab.execute("per_model_job", A)
    train = to_pandas(lab.lake.table("questions").filter("split = 'train'")).sort_values("question_id")
    questions_file, gens_file = home / "train_questions.jsonl", home / "generations.jsonl"
    questions_file.write_text("".join(
        json.dumps(q) + "\n" for q in train[["question_id", "question", "gold_answer"]].to_dict("records")))
    gens_file.write_text("".join(json.dumps(g) + "\n" for g in external_generations(train.to_dict("records"))))
    lab.import_files = (gens_file, questions_file)
    with lab.instance() as instance:
        import_generations([str(gens_file)], str(questions_file), instance=instance,
                           defs=build_definitions(lab.resources()))
    lab.clean = lab.snapshot()
    return lab
