"""Evaluate a checkpoint on test questions: maj1@1 (greedy), and maj1@K when asked.

    python -m rft.steps.evaluate --spec evaluate.json

Spec (JSON):
    {
      "checkpoint": "artifacts/models/tiny-llama-a/rft",
      "questions": "test_questions.parquet",   # columns question_id, question, gold_answer
      "max_new_tokens": 256,
      "batch_size": 64,
      "maj_k": null,            # K for maj1@K (sampled at `temperature`), null for greedy only
      "temperature": 0.7,       # paper: 0.7 for maj1@K
      "seed": 0,
      "output": "eval_results.parquet",
      # or, for several checkpoints in one process:
      # "checkpoints": [{"checkpoint": "...", "output": "....parquet"}, ...]
      "backend": "transformers", "engine": "auto", "num_threads": null, "asset_key": null   # optional
    }

Output rows: question_id, metric ("maj1@1" or "maj1@K"), text, answer, is_correct.
The report carries accuracy and its 95% Wilson interval per metric.
"""

import pandas as pd

from rft.evaluation import accuracy_summary, evaluate_greedy, evaluate_majority
from rft.models import load_model_and_tokenizer
from rft.sampling import make_backend
from rft.steps.common import (backend_options, parse_spec, read_records, reporter, set_threads,
                              write_parquet_atomic)

COLUMNS = ["question_id", "metric", "text", "answer", "is_correct"]


def evaluate_checkpoint(checkpoint: str, output: str, questions: list[dict], spec: dict, rep) -> dict:
    """Every metric of one checkpoint; writes its rows to `output`, returns the summary."""
    model, tokenizer = load_model_and_tokenizer(checkpoint)
    backend = make_backend(spec.get("backend", "transformers"), model, tokenizer,
                           **backend_options(spec))
    max_new = int(spec["max_new_tokens"])
    results = {"maj1@1": evaluate_greedy(backend, questions, max_new)}
    if spec.get("maj_k"):
        k = int(spec["maj_k"])
        results[f"maj1@{k}"] = evaluate_majority(
            backend, questions, k, float(spec.get("temperature", 0.7)), max_new,
            int(spec.get("seed", 0)))
    frames = [pd.DataFrame(rows).assign(metric=metric) for metric, rows in results.items()]
    table = pd.concat(frames, ignore_index=True)[COLUMNS]
    write_parquet_atomic(table, output)
    summary = {"checkpoint": checkpoint, "output": output, "n_questions": len(questions)}
    for metric, rows in results.items():
        for key, value in accuracy_summary(rows).items():
            summary[f"{metric}_{key}"] = value
    rep.log(f"{checkpoint}: " + ", ".join(f"{m}: {accuracy_summary(r)['accuracy']:.3f}"
                                          for m, r in results.items()))
    return summary


def main(argv: list[str] | None = None) -> list[dict]:
    spec = parse_spec(__doc__, argv)
    set_threads(spec)
    # One process for many checkpoints: loading torch costs seconds, evaluating a tiny model less.
    targets = spec.get("checkpoints") or [{"checkpoint": spec["checkpoint"], "output": spec["output"]}]
    with reporter("evaluate", spec) as rep:
        questions = sorted(read_records(spec["questions"]), key=lambda q: q["question_id"])
        summaries = []
        for target in targets:
            summary = evaluate_checkpoint(target["checkpoint"], target["output"], questions, spec, rep)
            rep.report(summary)
            summaries.append(summary)
        return summaries


if __name__ == "__main__":
    main()
