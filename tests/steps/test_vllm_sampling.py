"""The vLLM backend for real, on CPU: the sample step in vLLM's own environment (`.venv-vllm`).

One Dagster materialisation of `sampled_paths` with backend vllm, then the sample step run by
hand on a different set of questions, killed after its first chunk and run again. vLLM must
give every (question, sample) the same text in all of them: its seed alone fixes it.

`scripts/test.sh` builds `.venv-vllm` (scripts/vllm_env.sh) before the tests; in CI a missing
environment fails this module, elsewhere the fixture builds it (a minute or two, 6 GB).
"""

import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest
import yaml
from dagster import DagsterInstance, materialize

from assets.sampled_paths import sampled_paths
from rft.config.rft_config import TaskConfig
from rft.home import PROJECT_ROOT
from rft.models.loading import create_base_model
from rft.models.registry import resolve_model_spec
from rft.sampling.requests import sample_seed
from rft.steps.gpu_workers import ROW_COLUMNS
from rft.task.source import load_questions
from rft.sampling.vllm_python import find_vllm_python
from rft_dagster.resources import RftSettings, StepRunner
from spark_jobs.lakehouse import to_pandas
from spark_jobs.schemas import MODELS, QUESTIONS

MODEL = "vx-tiny"  # a partition of its own in the shared test warehouse, removed afterwards
# head_dim = 64 / 2 = 32: vLLM's CPU attention needs at least 32.
SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}
SEED, K_DAGSTER, K_BY_HAND = 5, 2, 3


@pytest.fixture(scope="module")
def vllm_python():
    python = find_vllm_python()
    if python is None:
        if os.environ.get("CI"):
            pytest.fail("no vLLM environment: scripts/test.sh builds .venv-vllm with scripts/vllm_env.sh")
        subprocess.run(["bash", "scripts/vllm_env.sh"], cwd=PROJECT_ROOT, check=True)
        python = find_vllm_python()
    return python


@pytest.fixture(scope="module")
def questions():
    """Twelve train questions of the embedded task under ids of this module's own."""
    rows = load_questions(TaskConfig(n_train=12, n_test=1, seed=3))
    return [{**r, "question_id": "vx-" + r["question_id"]} for r in rows if r["split"] == "train"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, questions):
    """A randomly initialised tiny Llama and the project's own tokenizer, saved by our code."""
    spec = resolve_model_spec({"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300})
    out = tmp_path_factory.mktemp("vllm") / "base"
    create_base_model(spec, [q["question"] + q["answer_text"] for q in questions], str(out), seed=0)
    return str(out)


@pytest.fixture(scope="module")
def runs(vllm_python, questions, checkpoint, spark_resource, lake, tmp_path_factory):
    """Sample through Dagster, then by hand (killed, resumed); every written row."""
    tmp = tmp_path_factory.mktemp("vllm_runs")
    spark = lake.spark
    lake.replace("questions", spark.createDataFrame(pd.DataFrame(questions), QUESTIONS.schema),
                 "question_id LIKE 'vx-%'")
    lake.replace("models", spark.createDataFrame(pd.DataFrame([{
        "model": MODEL, "stage": "sft", "training_set": "sft", "checkpoint": checkpoint, "base": "random",
        "method": "full", "n_examples": 0, "n_steps": 0, "final_loss": 0.0, "tokens_per_s": 0.0,
        "seconds": 0.0, "train_config": "{}", "data_manifest": "{}", "run_id": "vx", "seed": 42, "n_tokens": 0}]),
        MODELS.required_schema), f"model = '{MODEL}'")
    try:
        yield sample_everything(vllm_python, questions, checkpoint, spark_resource, lake, tmp)
    finally:
        for table, where in [("questions", "question_id LIKE 'vx-%'"), ("models", f"model = '{MODEL}'"),
                             ("sampled_paths", f"model = '{MODEL}'")]:
            spark.sql(f"DELETE FROM rft.{table} WHERE {where}")


def sample_everything(vllm_python, questions, checkpoint, spark_resource, lake, tmp) -> dict:
    config = tmp / "vllm.yaml"
    config.write_text(yaml.safe_dump({"sampling": {
        "backend": "vllm", "k": K_DAGSTER, "temperature": 1.0, "max_new_tokens": 24, "seed": SEED}}))
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("models", [MODEL])
    n_train = lake.table("questions").filter("split = 'train'").count()  # other tests' too
    steps = StepRunner(num_threads=2)
    result = materialize([sampled_paths], partition_key=MODEL, instance=instance, resources={
        "spark": spark_resource, "settings": RftSettings(config_file=str(config), home=str(tmp / "home")),
        "steps": steps})
    assert result.success
    via_dagster = to_pandas(lake.table("sampled_paths").filter(f"model = '{MODEL}'"))
    metadata = result.asset_materializations_for_node("sampled_paths")[0].metadata

    # By hand: only this module's questions, in reverse order, 3 samples each, 5 per call.
    pd.DataFrame(questions[::-1])[["question_id", "question"]].to_parquet(tmp / "questions.parquet")
    output = tmp / "by_hand.parquet"
    spec = {"checkpoint": checkpoint, "questions": str(tmp / "questions.parquet"), "k": K_BY_HAND,
            "temperature": 1.0, "max_new_tokens": 24, "base_seed": SEED, "backend": "vllm",
            "output": str(output), "chunk_rows": 5, "num_threads": 2, "progress": False}
    (tmp / "spec.json").write_text(json.dumps(spec))
    command = [vllm_python, "-m", "rft.steps.sample", "--spec", str(tmp / "spec.json")]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    killed = kill_after_first_chunk(command, env, output.parent / (output.name + ".parts"), tmp / "killed.log")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return {"n_train": n_train, "via_dagster": via_dagster, "metadata": metadata, "killed": killed,
            "summary": json.loads(done.stdout.strip().splitlines()[-1]),
            "by_hand": pd.read_parquet(output), "parts_left": os.path.exists(f"{output}.parts")}


def kill_after_first_chunk(command, env, parts_dir, log) -> dict:
    """Start the step, SIGKILL it as soon as a finished chunk appears; what it left behind."""
    with open(log, "w") as err:  # a file, not a pipe: vLLM logs enough to fill a pipe and block
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if parts_dir.is_dir() and any(p.name.endswith(".parquet") for p in parts_dir.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    returncode = proc.wait()
    assert returncode == -signal.SIGKILL, \
        f"the step was not killed mid-run (exit {returncode}): {log.read_text()[-3000:]}"
    chunks = sorted(p for p in parts_dir.iterdir() if p.name.endswith(".parquet"))
    return {"rows": sum(len(pd.read_parquet(p)) for p in chunks)}


def test_dagster_writes_vllm_paths_with_their_seeds(runs, questions):
    rows = runs["via_dagster"]
    assert len(rows) == rows.path_id.nunique() == runs["n_train"] * K_DAGSTER
    assert set(rows.backend) == {"vllm"} and set(rows.temperature) == {1.0}
    assert runs["metadata"]["backend"].value == "vllm"
    mine = rows[rows.question_id.str.startswith("vx-")]
    assert len(mine) == len(questions) * K_DAGSTER
    assert all(r.seed == sample_seed(SEED, r.question_id, r.sample_idx) for r in mine.itertuples())


def test_samples_of_one_question_differ(runs):
    texts = runs["by_hand"].groupby("question_id").text.nunique()
    assert (texts == K_BY_HAND).all()
    assert runs["by_hand"].n_new_tokens.between(1, 24).all()


def test_same_seed_same_text_across_runs_batches_and_a_kill(runs):
    by_hand = runs["by_hand"].set_index(["question_id", "sample_idx"])
    via_dagster = runs["via_dagster"].set_index(["question_id", "sample_idx"])
    shared = by_hand.index.intersection(via_dagster.index)
    assert len(shared) == 12 * K_DAGSTER  # every path both runs sampled
    assert by_hand.loc[shared, "text"].equals(via_dagster.loc[shared, "text"])
    assert by_hand.loc[shared, "seed"].equals(via_dagster.loc[shared, "seed"])


def test_killed_run_resumes_without_duplicates(runs):
    summary, rows = runs["summary"], runs["by_hand"]
    assert runs["killed"]["rows"] >= 5 and summary["n_resumed"] == runs["killed"]["rows"]
    assert summary["n_sampled_now"] + summary["n_resumed"] == len(rows) == 12 * K_BY_HAND
    assert not rows.duplicated(["question_id", "sample_idx"]).any()
    assert list(rows.columns) == ROW_COLUMNS and not runs["parts_left"]
    assert summary["backend"] == "vllm" and 0 < summary["generated_tokens"] <= rows.n_new_tokens.sum()
