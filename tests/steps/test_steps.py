"""The step scripts as real subprocesses: train -> sample (and resume) -> evaluate."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from rft.steps import sample as sample_step
from rft.steps import train as train_step
from rft.steps.step_specs import SampleSpec
from rft.task.generator import embedded_task
from rft.task.prompts import format_prompt, format_response

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "intermediate_size": 128}


def write_spec(step: str, spec: dict, tmp_path) -> str:
    path = tmp_path / f"{step}.json"
    path.write_text(json.dumps({"num_threads": 2, "progress": False, **spec}))
    return str(path)


def run_step(step: str, spec: dict, tmp_path) -> dict:
    """Run `python -m rft.steps.<step> --spec FILE`; return its JSON summary (last stdout line)."""
    path = write_spec(step, spec, tmp_path)
    done = subprocess.run([sys.executable, "-m", f"rft.steps.{step}", "--spec", path],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Input files as the orchestrator would export them, and a trained checkpoint."""
    tmp = tmp_path_factory.mktemp("steps")
    train, test = embedded_task(n_train=32, n_test=6, seed=1)
    pd.DataFrame(train).to_parquet(tmp / "train_questions.parquet")
    pd.DataFrame([{"prompt": format_prompt(q["question"]),
                   "response": format_response(q["answer"])} for q in train]
                 ).to_parquet(tmp / "sft_data.parquet")
    pd.DataFrame([{"question_id": q["question_id"], "question": q["question"],
                   "gold_answer": q["answer"].split("####")[-1].strip()} for q in test]
                 ).to_parquet(tmp / "test_questions.parquet")
    summary = run_step("train", {
        "base": {"spec": {"name": "tiny-llama-a", "overrides": SMALL, "vocab_size": 300},
                 "dir": str(tmp / "base")},
        "corpus_path": str(tmp / "train_questions.parquet"),
        "train_data": str(tmp / "sft_data.parquet"),
        "train_config": {"epochs": 2, "learning_rate": 3e-3, "global_batch_size": 8,
                         "micro_batch_size": 8},
        "output_dir": str(tmp / "sft"),
        "seed": 0,
    }, tmp)
    return tmp, summary


def test_train_creates_base_and_checkpoint(workdir):
    tmp, summary = workdir
    assert summary["n_examples"] == 32 and summary["n_steps"] == 8
    assert (tmp / "base" / "config.json").exists() and (tmp / "sft" / "config.json").exists()
    stats = json.loads((tmp / "sft" / "train_stats.json").read_text())
    assert stats["train_config"]["learning_rate"] == 3e-3


def test_sample_writes_sorted_paths_and_resumes_identically(workdir):
    tmp, _ = workdir
    spec = {"checkpoint": str(tmp / "sft"), "questions": str(tmp / "train_questions.parquet"),
            "k": 2, "temperature": 1.0, "max_new_tokens": 24, "base_seed": 3,
            "batch_size": 8, "backend": "transformers", "output": str(tmp / "paths.parquet")}
    summary = run_step("sample", spec, tmp)
    full = pd.read_parquet(tmp / "paths.parquet")
    assert summary["n_rows"] == len(full) == 64
    assert list(full.columns[:4]) == ["question_id", "sample_idx", "seed", "text"]
    assert full.equals(full.sort_values(["question_id", "sample_idx"], ignore_index=True))

    # Pretend a run was killed after its first chunk: pass 0 of the first 8 questions.
    resumed_spec = {**spec, "output": str(tmp / "resumed.parquet")}
    parts = str(tmp / "resumed.parquet.parts")
    sample_step.open_parts(parts, SampleSpec(num_threads=2, progress=False, **resumed_spec), print)
    first_chunk = full[(full.sample_idx == 0) & full.question_id.isin(sorted(full.question_id)[:16])]
    first_chunk.to_parquet(f"{parts}/part-00000.parquet", index=False)
    summary = sample_step.main(["--spec", write_spec("sample", resumed_spec, tmp)])  # in-process
    assert summary["n_resumed"] == 8 and summary["n_sampled_now"] == 56
    assert pd.read_parquet(tmp / "resumed.parquet").equals(full)
    assert not (tmp / "resumed.parquet.parts").exists()


def test_evaluate_writes_one_row_per_question_and_metric(workdir):
    tmp, _ = workdir
    summary = run_step("evaluate", {
        "checkpoint": str(tmp / "sft"), "questions": str(tmp / "test_questions.parquet"),
        "max_new_tokens": 24, "batch_size": 8, "maj_k": 2, "temperature": 0.7, "seed": 0,
        "output": str(tmp / "eval.parquet")}, tmp)
    rows = pd.read_parquet(tmp / "eval.parquet")
    assert list(rows.columns) == ["question_id", "metric", "text", "answer", "is_correct",
                                  "answer_reference", "is_correct_reference"]
    assert rows.groupby("metric").size().to_dict() == {"maj1@1": 6, "maj1@2": 6}
    assert summary["maj1@1_n"] == 6 and 0 <= summary["maj1@1_accuracy"] <= 1
    assert summary["scoring"] == "strict" and summary["maj1@1_correct"] == summary["maj1@1_correct_strict"]
    assert summary["maj1@1_correct_reference"] == int(rows[rows.metric == "maj1@1"].is_correct_reference.sum())


def test_two_workers_sample_the_rows_one_worker_samples(workdir):
    """The GPU sharding on CPU: workers split the batches, the step merges; same texts."""
    tmp, _ = workdir
    spec = {"checkpoint": str(tmp / "sft"), "questions": str(tmp / "train_questions.parquet"),
            "k": 2, "temperature": 1.0, "max_new_tokens": 16, "base_seed": 4,
            "batch_size": 8, "backend": "transformers"}
    # One torch thread per worker either way: thread counts may change float rounding.
    one = run_step("sample", {**spec, "output": str(tmp / "one.parquet"), "workers": 1,
                              "num_threads": 1}, tmp)
    two = run_step("sample", {**spec, "output": str(tmp / "two.parquet"), "workers": 2,
                              "num_threads": 2}, tmp)
    assert (one["workers"], two["workers"]) == (1, 2) and two["n_rows"] == 64
    assert pd.read_parquet(tmp / "two.parquet").equals(pd.read_parquet(tmp / "one.parquet"))


def test_two_workers_evaluate_as_one_worker_does(workdir):
    tmp, _ = workdir
    spec = {"checkpoint": str(tmp / "sft"), "questions": str(tmp / "test_questions.parquet"),
            "max_new_tokens": 16, "batch_size": 2, "maj_k": 2, "temperature": 0.7, "seed": 0,
            "backend": "transformers"}
    one = run_step("evaluate", {**spec, "output": str(tmp / "eval1.parquet"), "workers": 1,
                                "num_threads": 1}, tmp)
    two = run_step("evaluate", {**spec, "output": str(tmp / "eval2.parquet"), "workers": 2,
                                "num_threads": 2}, tmp)
    assert pd.read_parquet(tmp / "eval2.parquet").equals(pd.read_parquet(tmp / "eval1.parquet"))
    assert {k: v for k, v in two.items() if k not in ("output", "step_seconds")} == \
        {k: v for k, v in one.items() if k not in ("output", "step_seconds")}


def test_help_shows_the_spec_format(capsys):
    with pytest.raises(SystemExit):
        train_step.main(["--help"])
    assert '"train_config"' in capsys.readouterr().out


def test_a_misspelt_spec_field_fails_before_any_work_and_names_it(tmp_path):
    path = write_spec("train", {"base": {"spec": "tiny-llama-a"}, "train_data": "t.parquet",
                                "output_dir": str(tmp_path / "out"), "train_confg": {"epochs": 1}}, tmp_path)
    done = subprocess.run([sys.executable, "-m", "rft.steps.train", "--spec", path],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 and not (tmp_path / "out").exists()
    assert f"SpecError: train spec {path}: train_confg: unknown field" in done.stderr
