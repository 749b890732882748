"""Sample k reasoning paths per question with a checkpoint; resumable after a kill.

    python -m rft.steps.sample --spec sample.json

Spec (JSON):
    {
      "checkpoint": "artifacts/models/tiny-llama-a/sft",  # folder written by the train step
      "questions": "train_questions.parquet",   # columns question_id, question
      "k": 4, "temperature": 0.8, "max_new_tokens": 256,
      "base_seed": 0,           # path (q, j) uses rft.sampling.sample_seed(base_seed, q, j)
      "batch_size": 64,         # prompts the backend decodes at once
      "backend": "transformers",
      "engine": "auto",         # transformers only: "static" (CUDA graphs), "generate" or "auto"
      "output": "sampled_paths.parquet",
      "chunk_rows": 1024,       # optional: rows per resume chunk
      "num_threads": null, "progress": true, "asset_key": null   # optional
    }

Output rows: question_id, sample_idx, seed, text, n_new_tokens, sorted by (question_id,
sample_idx). Questions are sampled in question_id order, whatever the input file's order.

Each path's text depends on its seed, not on its batch, so batch size and engine may change
between a run and its resumption.

Resume: finished chunks go to `<output>.parts/` as they complete (each written to a temporary
name, then renamed). A rerun with the same spec keeps them and samples only the missing rows,
which come out exactly as an uninterrupted run would have made them. The folder is removed once
the output is written; chunks left by a different spec are discarded.
"""

import glob
import json
import os
import shutil
import time

import pandas as pd

from rft.models import load_model_and_tokenizer
from rft.sampling import make_backend, sample_paths
from rft.steps.common import (backend_options, parse_spec, read_records, reporter, set_threads,
                              write_json, write_parquet_atomic)

# Spec keys that do not change the texts, so a resumed run may differ in them.
_RESUME_IRRELEVANT = {"output", "chunk_rows", "num_threads", "asset_key", "progress",
                      "batch_size", "engine"}


def open_parts(parts_dir: str, spec: dict, log) -> tuple[set, int]:
    """(done (question_id, sample_idx) pairs, next chunk number) of a previous run's chunks."""
    fingerprint = {k: v for k, v in spec.items() if k not in _RESUME_IRRELEVANT}
    spec_path = os.path.join(parts_dir, "spec.json")
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            if json.load(f) != fingerprint:
                log(f"discarding chunks in {parts_dir}: they come from a different spec")
                shutil.rmtree(parts_dir)
    os.makedirs(parts_dir, exist_ok=True)
    write_json(fingerprint, spec_path)
    done, numbers = set(), [-1]
    for path in sorted(glob.glob(os.path.join(parts_dir, "part-*.parquet"))):
        part = pd.read_parquet(path, columns=["question_id", "sample_idx"])
        done |= set(zip(part["question_id"], part["sample_idx"]))
        numbers.append(int(os.path.basename(path)[5:10]))
    if done:
        log(f"resuming: {len(done)} paths already sampled in {parts_dir}")
    return done, max(numbers) + 1


def main(argv: list[str] | None = None) -> dict:
    spec = parse_spec(__doc__, argv)
    set_threads(spec)
    with reporter("sample", spec) as rep:
        model, tokenizer = load_model_and_tokenizer(spec["checkpoint"])
        backend = make_backend(spec.get("backend", "transformers"), model, tokenizer,
                               **backend_options(spec))
        questions = sorted(read_records(spec["questions"]), key=lambda q: q["question_id"])
        output, chunk_rows = spec["output"], int(spec.get("chunk_rows", 1024))
        parts_dir = output + ".parts"
        done, part_no = open_parts(parts_dir, spec, rep.log)

        def flush(rows):
            nonlocal part_no
            path = os.path.join(parts_dir, f"part-{part_no:05d}.parquet")
            write_parquet_atomic(pd.DataFrame(rows), path)
            part_no += 1

        buffer, n_new, n_tokens, start = [], 0, 0, time.perf_counter()
        for row in sample_paths(backend, questions, k=int(spec["k"]),
                                temperature=float(spec["temperature"]),
                                max_new_tokens=int(spec["max_new_tokens"]),
                                base_seed=int(spec.get("base_seed", 0)),
                                progress=bool(spec.get("progress", True)), done=done):
            buffer.append(row)
            n_new += 1
            n_tokens += row["n_new_tokens"] or 0
            if len(buffer) >= chunk_rows:
                flush(buffer)
                buffer = []
        if buffer:
            flush(buffer)
        seconds = time.perf_counter() - start

        parts = sorted(glob.glob(os.path.join(parts_dir, "part-*.parquet")))
        paths = (pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
                 .drop_duplicates(["question_id", "sample_idx"])
                 .sort_values(["question_id", "sample_idx"], ignore_index=True))
        write_parquet_atomic(paths, output)
        shutil.rmtree(parts_dir)
        summary = {"output": output, "n_rows": len(paths), "n_questions": len(questions),
                   "n_sampled_now": n_new, "n_resumed": len(done), "k": int(spec["k"]),
                   "temperature": float(spec["temperature"]), "backend": backend.name,
                   "generated_tokens": n_tokens, "sample_seconds": round(seconds, 2),
                   "generated_tokens_per_s": round(n_tokens / max(seconds, 1e-9), 1)}
        rep.report(summary)
        return summary


if __name__ == "__main__":
    main()
