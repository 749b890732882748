"""Scaling over the GPUs of one host: training tokens/s and sampling tokens/s on 1, 2, ... GPUs.

    python -m benches.multi_gpu --base ~/qwen.gguf --gsm8k data/gsm8k --work ~/mg --gpus 1 2 8 \
        --json benches/results/multi_gpu.json

Same model, same data, one run: for each GPU count n, the train step (`rft.steps.train`:
data-parallel over the first n GPUs, a process per GPU) for --train-steps optimizer steps at the
paper's global batch of 128, then the sample step (`rft.steps.sample`: a worker per GPU) on the
first --questions train questions at k=--k. Training throughput is tokens per second of the
training loop (rank 0's clock, model loading excluded); sampling throughput is new tokens per
second of generation (sample_seconds: the slowest worker). Scaling efficiency is the
throughput at n GPUs over n times the throughput at one, measured in the same run.

Without GPUs, `--cpu-processes 1 2` rehearses the same runs with gloo processes and CPU
sampling workers: the figures then say nothing about GPUs, only that every piece runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import pandas as pd

from rft.task.gsm8k import load_jsonl_questions
from rft.task.prompts import format_prompt, format_response


def run_step(step: str, spec: dict, path: str, env: dict[str, str]) -> dict:
    """Run `python -m rft.steps.<step>` on `spec`; its report (the last line of its output)."""
    with open(path, "w") as f:
        json.dump(spec, f)
    done = subprocess.run([sys.executable, "-m", f"rft.steps.{step}", "--spec", path],
                          capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed ({path}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def efficiency(rows: list[dict], key: str) -> None:
    """Each row's `key` over n times the one-device row's, as `<key>_scaling_efficiency`."""
    one = next(r[key] for r in rows if r["devices"] == 1)
    for r in rows:
        r[f"{key}_scaling_efficiency"] = round(r[key] / (r["devices"] * one), 3)


def device_name(cpu: bool) -> str:
    if cpu:
        return f"CPU ({os.cpu_count()} cores), gloo"
    import torch

    return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="base model: GGUF file, folder, hub id or tiny name")
    p.add_argument("--gsm8k", required=True, help="folder with GSM8K train.jsonl")
    p.add_argument("--work", required=True, help="scratch folder: the base as a folder, data, checkpoints")
    p.add_argument("--gpus", type=int, nargs="+", default=[1, 2], help="GPU counts to run")
    p.add_argument("--cpu-processes", type=int, nargs="+", help="rehearse on CPU with these process counts")
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--micro-batch", type=int, default=16)
    p.add_argument("--global-batch", type=int, default=128)
    p.add_argument("--questions", type=int, default=1024, help="train questions to sample")
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--json", default="benches/results/multi_gpu.json", help="the record to write")
    args = p.parse_args(argv)
    cpu = bool(args.cpu_processes)
    counts = args.cpu_processes or args.gpus
    os.makedirs(args.work, exist_ok=True)

    questions = load_jsonl_questions(os.path.join(args.gsm8k, "train.jsonl"), "train")
    examples = pd.DataFrame([(format_prompt(q["question"]), format_response(q["answer"])) for q in questions],
                            columns=["prompt", "response"])
    examples.to_parquet(os.path.join(args.work, "train.parquet"))
    pd.DataFrame(questions[:args.questions]).to_parquet(os.path.join(args.work, "questions.parquet"))
    base = {"spec": args.base, "dir": os.path.join(args.work, "base")}
    if not os.path.exists(os.path.join(base["dir"], "config.json")):  # load a GGUF once, not per run
        from rft.models.loading import create_base_model, load_model_and_tokenizer
        from rft.models.registry import resolve_model_spec
        from rft.training.trainer import save_checkpoint

        spec = resolve_model_spec(args.base)
        if spec.source == "tiny":  # the rehearsal's model, made from the data
            create_base_model(spec, list(examples["prompt"] + examples["response"]), base["dir"], 0)
        else:
            model, tokenizer = load_model_and_tokenizer(spec, device="cpu")
            save_checkpoint(model, tokenizer, base["dir"])
            del model

    rows = []
    for n in counts:
        env = {} if cpu else {"CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in range(n))}
        parallel = {"data_parallel": "on", "n_processes": n} if n > 1 else {"data_parallel": "off"}
        start = time.perf_counter()
        train = run_step("train", {
            "base": base, "train_data": os.path.join(args.work, "train.parquet"),
            "train_config": {"max_steps": args.train_steps, "global_batch_size": args.global_batch,
                             "micro_batch_size": args.micro_batch, **parallel},
            "output_dir": os.path.join(args.work, f"trained-{n}"), "progress": False,
        }, os.path.join(args.work, f"train-{n}.json"), env)
        sample = run_step("sample", {
            "checkpoint": base["dir"], "questions": os.path.join(args.work, "questions.parquet"),
            "k": args.k, "temperature": 0.7, "max_new_tokens": args.max_new_tokens, "backend": "auto",
            "output": os.path.join(args.work, f"samples-{n}.parquet"), "workers": n, "progress": False,
        }, os.path.join(args.work, f"sample-{n}.json"), env)
        rows.append({"devices": n, "train_steps": train["n_steps"], "train_tokens": train["n_tokens"],
                     "train_seconds": round(train["seconds"], 2), "train_tokens_per_s": round(train["tokens_per_s"], 1),
                     "sample_rows": sample["n_rows"], "sample_backend": sample["backend"],
                     "generated_tokens": sample["generated_tokens"], "sample_seconds": sample["sample_seconds"],
                     "sample_tokens_per_s": sample["generated_tokens_per_s"],
                     "wall_seconds": round(time.perf_counter() - start, 1)})
        print(json.dumps(rows[-1]), flush=True)
    efficiency(rows, "train_tokens_per_s")
    efficiency(rows, "sample_tokens_per_s")
    record = {"command": "python -m benches.multi_gpu " + " ".join(argv if argv is not None else sys.argv[1:]),
              "device": device_name(cpu), "base": args.base, "global_batch": args.global_batch,
              "micro_batch": args.micro_batch, "k": args.k, "max_new_tokens": args.max_new_tokens,
              "date": time.strftime("%Y-%m-%d"), "runs": rows}
    with open(args.json, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return record


if __name__ == "__main__":
    main()
