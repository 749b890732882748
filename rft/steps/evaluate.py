"""Evaluate a checkpoint on test questions: maj1@1 (greedy), and maj1@K when asked.

    python -m rft.steps.evaluate --spec evaluate.json

Spec (JSON, rft.steps.step_specs.EvaluateSpec; unknown fields are errors):
    {
      "checkpoint": "artifacts/models/tiny-llama-a/rft",
      "questions": "test_questions.parquet",   # columns question_id, question, gold_answer
      "max_new_tokens": 256,
      "batch_size": 64,
      "maj_k": null,            # K for maj1@K (sampled at `temperature`), null for greedy only
      "temperature": 0.7,       # paper: 0.7 for maj1@K
      "seed": 0,
      "scoring": "strict",      # optional: strict or reference, the verdict the report counts
      "output": "eval_results.parquet",
      # or, for several checkpoints in one process:
      # "checkpoints": [{"checkpoint": "...", "output": "....parquet"}, ...]
      "backend": "auto",        # optional: auto (the static engine on a GPU for Llama/Qwen2
                                #   models, else vllm where importable), vllm or transformers
      "workers": null, "vllm_options": {}, "chunk_rows": 1024,  # optional, as in rft.steps.sample
      "num_threads": null, "progress": false, "asset_key": null   # optional
    }

Output rows: question_id, metric ("maj1@1" or "maj1@K"), text, answer, is_correct (the strict
rule), answer_reference, is_correct_reference (the published scripts' rule; see
rft/evaluation/scoring.py). The report carries accuracy and its 95% Wilson interval per metric
under `scoring`, and both modes' counts of correct answers.

Questions are shared out over one worker per visible GPU (`"workers": N` overrides; one on
CPU), each worker loading every checkpoint in turn; the step merges their rows.
"""

import os
import shutil

import pandas as pd

from rft.evaluation.reference_scoring import CORRECT_COLUMNS, correct_column
from rft.evaluation.scoring import accuracy_summary, score_greedy, score_majority
from rft.sampling.requests import SEEDING, plan_requests
from rft.steps.gpu_workers import Backend, Job, read_parts, run_jobs, step_backend
from rft.steps.step_io import (
    parse_spec,
    read_records,
    reporter,
    set_threads,
    write_parquet_atomic,
)
from rft.steps.step_specs import EvaluateSpec

COLUMNS = ["question_id", "metric", "text", "answer", "is_correct", "answer_reference", "is_correct_reference"]


def plan_jobs(checkpoint: str, output: str, questions: list[dict], spec: EvaluateSpec) -> dict[str, Job]:
    """metric -> the generation job that answers it, for one checkpoint (`spec.backend` already chosen)."""
    seeding = SEEDING[spec.backend]
    batch_size = spec.batch_size
    if seeding == "request":  # vLLM batches inside one call: give it many requests at once
        batch_size = max(batch_size, spec.chunk_rows)
    max_new = spec.max_new_tokens
    parts = output + ".parts"
    jobs = {"maj1@1": Job(checkpoint, 0.0, max_new, plan_requests(questions, 1, 0, batch_size, seeding),
                          os.path.join(parts, "maj1@1"), label="greedy")}
    if spec.maj_k:
        k = spec.maj_k
        groups = plan_requests(questions, k, spec.seed, batch_size, seeding)
        jobs[f"maj1@{k}"] = Job(checkpoint, spec.temperature, max_new, groups,
                                os.path.join(parts, f"maj1@{k}"), label=f"maj1@{k}")
    return jobs


def score_checkpoint(checkpoint: str, output: str, questions: list[dict], jobs: dict[str, Job],
                     rep, scoring: str = "strict") -> dict:
    """Every metric of one checkpoint from its generated rows; writes `output`, returns the summary."""
    results = {}
    for metric, job in jobs.items():
        rows = read_parts(job.parts_dir)
        if metric == "maj1@1":
            results[metric] = score_greedy(questions, dict(zip(rows["question_id"], rows["text"])))
        else:
            results[metric] = score_majority(questions, rows.groupby("question_id")["text"].agg(list).to_dict())
    frames = [pd.DataFrame(rows).assign(metric=metric) for metric, rows in results.items()]
    write_parquet_atomic(pd.concat(frames, ignore_index=True)[COLUMNS], output)
    column = correct_column(scoring)
    summary = {"checkpoint": checkpoint, "output": output, "n_questions": len(questions), "scoring": scoring}
    for metric, rows in results.items():
        for key, value in accuracy_summary(rows, column).items():
            summary[f"{metric}_{key}"] = value
        for mode, mode_column in CORRECT_COLUMNS.items():
            summary[f"{metric}_correct_{mode}"] = accuracy_summary(rows, mode_column)["correct"]
    rep.log(f"{checkpoint} ({scoring}): " + ", ".join(f"{m}: {accuracy_summary(r, column)['accuracy']:.3f}"
                                                      for m, r in results.items()))
    return summary


def main(argv: list[str] | None = None) -> list[dict]:
    spec = parse_spec(__doc__, EvaluateSpec, argv)
    set_threads(spec)
    # One process for many checkpoints: loading torch (or vLLM) costs seconds, a tiny model less.
    targets = spec.targets
    with reporter(spec) as rep:
        spec = spec.model_copy(update={"backend": step_backend(spec.backend, [t.checkpoint for t in targets])})
        questions = sorted(read_records(spec.questions), key=lambda q: q["question_id"])
        plans = []
        for target in targets:
            shutil.rmtree(target.output + ".parts", ignore_errors=True)  # evaluation restarts whole
            plans.append(plan_jobs(target.checkpoint, target.output, questions, spec))
        run_jobs([job for jobs in plans for job in jobs.values()],
                 Backend(spec.backend, spec.batch_size, spec.vllm_options),
                 workers=spec.workers, workdir=targets[0].output + ".parts/workers",
                 chunk_rows=spec.chunk_rows, num_threads=spec.num_threads,
                 progress=spec.progress, log=rep.log)
        summaries = []
        for target, jobs in zip(targets, plans):
            summary = {**score_checkpoint(target.checkpoint, target.output, questions, jobs, rep, spec.scoring),
                       "backend": spec.backend}
            shutil.rmtree(target.output + ".parts")
            rep.report(summary)
            summaries.append(summary)
        return summaries


if __name__ == "__main__":
    main()
