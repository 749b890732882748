"""Sample k reasoning paths per question with a checkpoint; one worker per GPU; resumable.

    python -m rft.steps.sample --spec sample.json                       # transformers, or vLLM if importable
    .venv-vllm/bin/python -m rft.steps.sample --spec sample.json        # vLLM's own environment
                                                                        # (project on PYTHONPATH)
Spec (JSON, rft.steps.step_specs.SampleSpec; unknown fields are errors):
    {
      "checkpoint": "artifacts/models/tiny-llama-a/sft",  # folder written by the train step
      "questions": "train_questions.parquet",   # columns question_id, question
      "k": 4, "temperature": 0.8, "max_new_tokens": 256,
      "base_seed": 0,           # path (q, j) is seeded with rft.sampling.requests.sample_seed(base_seed, q, j)
      "backend": "auto",        # auto (the static engine on a GPU for Llama/Qwen2 models, else
                                #   vllm where importable), vllm or transformers
      "batch_size": 64,         # transformers: rows decoded at once (static engine: KV cache rows)
      "output": "sampled_paths.parquet",
      "chunk_rows": 1024,       # optional: rows per resume chunk (vllm: requests per generate call)
      "workers": null,          # optional: worker processes; default one per visible GPU, 1 on CPU
      "vllm_options": {},       # optional: more vllm.LLM arguments (dtype, max_num_seqs, ...)
      "num_threads": null, "progress": true, "asset_key": null   # optional
    }

Output rows: question_id, sample_idx, seed, text, n_new_tokens, finish_reason ("eos", or
"length" where max_new_tokens cut the path), sorted by (question_id, sample_idx).
Questions are sampled in question_id order, whatever the input file's order.

Resume: finished chunks go to `<output>.parts/` as they complete (each written to a temporary
name, then renamed). A rerun with the same spec keeps them and samples only the missing rows,
which come out exactly as an uninterrupted run would have made them (vllm: whatever the number
of workers or the batch size). The folder is removed once the output is written; chunks left by
a different spec are discarded.
"""

import json
import os
import shutil

from rft.sampling.requests import SEEDING, plan_requests
from rft.steps.step_io import (parse_spec, read_records, reporter, set_threads,
                              write_json, write_parquet_atomic)
from rft.steps.step_specs import SampleSpec
from rft.steps.gpu_workers import Backend, Job, read_parts, run_jobs, step_backend

# Spec keys that do not change the texts, so a resumed run may differ in them.
_RESUME_IRRELEVANT = {"output", "chunk_rows", "num_threads", "asset_key", "progress", "workers"}
# With one seed per request, the batch size changes nothing either.
_RESUME_IRRELEVANT_PER_REQUEST = _RESUME_IRRELEVANT | {"batch_size"}


def open_parts(parts_dir: str, spec: SampleSpec, log) -> set[tuple]:
    """(question_id, sample_idx) pairs already in `parts_dir` from an earlier run of this spec.

    `spec.backend` must be the chosen backend (not "auto"): it decides what may change.
    """
    ignore = (_RESUME_IRRELEVANT_PER_REQUEST if SEEDING[spec.backend] == "request"
              else _RESUME_IRRELEVANT)
    fingerprint = spec.model_dump(mode="json", exclude=ignore)
    spec_path = os.path.join(parts_dir, "spec.json")
    if os.path.exists(spec_path):
        with open(spec_path) as f:
            if json.load(f) != fingerprint:
                log(f"discarding chunks in {parts_dir}: they come from a different spec")
                shutil.rmtree(parts_dir)
    os.makedirs(parts_dir, exist_ok=True)
    write_json(fingerprint, spec_path)
    parts = read_parts(parts_dir)
    done = set(zip(parts["question_id"], parts["sample_idx"].astype(int)))
    if done:
        log(f"resuming: {len(done)} paths already sampled in {parts_dir}")
    return done


def main(argv: list[str] | None = None) -> dict:
    spec = parse_spec(__doc__, SampleSpec, argv)
    set_threads(spec)
    with reporter(spec) as rep:
        spec = spec.model_copy(update={"backend": step_backend(spec.backend, [spec.checkpoint])})
        seeding = SEEDING[spec.backend]
        questions = sorted(read_records(spec.questions), key=lambda q: q["question_id"])
        if len({q["question_id"] for q in questions}) != len(questions):
            raise ValueError(f"{spec.questions}: question_id repeats; each question once, please")
        output, chunk_rows, k, batch_size = spec.output, spec.chunk_rows, spec.k, spec.batch_size
        parts_dir = output + ".parts"
        done = open_parts(parts_dir, spec, rep.log)
        # One generate call per chunk for vLLM: it batches inside the call, and bigger calls
        # keep a GPU busier; the transformers batch is part of what fixes the texts.
        group_size = chunk_rows if seeding == "request" else batch_size
        groups = plan_requests(questions, k, spec.base_seed, group_size, seeding, done)
        job = Job(spec.checkpoint, spec.temperature, spec.max_new_tokens, groups,
                  parts_dir, label=f"sample {spec.backend}")
        stats = run_jobs([job], Backend(spec.backend, batch_size, spec.vllm_options),
                         workers=spec.workers, workdir=os.path.join(parts_dir, "workers"),
                         chunk_rows=chunk_rows, num_threads=spec.num_threads,
                         progress=spec.progress, log=rep.log)

        paths = read_parts(parts_dir)
        expected = len(questions) * k
        if len(paths) != expected:  # a worker that "succeeded" without its rows is a bug, not a pass
            raise RuntimeError(f"{len(paths)} paths in {parts_dir}, expected {expected}: run again to resume")
        write_parquet_atomic(paths, output)
        shutil.rmtree(parts_dir)
        seconds = stats["generate_seconds"]
        summary = {"output": output, "n_rows": len(paths), "n_questions": len(questions),
                   "n_sampled_now": stats["rows"], "n_resumed": len(done), "k": k,
                   "temperature": spec.temperature, "backend": spec.backend,
                   "workers": stats["workers"], "generated_tokens": stats["tokens"],
                   "sample_seconds": round(seconds, 2), "load_and_sample_seconds": round(stats["seconds"], 2),
                   "generated_tokens_per_s": round(stats["tokens"] / max(seconds, 1e-9), 1)}
        rep.report(summary)
        return summary


if __name__ == "__main__":
    main()
