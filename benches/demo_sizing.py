"""Sizing the CPU demo: how fast the tiny models train and sample, and how good they get.

    # throughputs of every TINY_CONFIG (train tokens/s, generated tokens/s), about 2 minutes
    .venv/bin/python benches/demo_sizing.py measure
    # one model's SFT -> greedy eval -> sample k paths -> verify, with timings per phase
    .venv/bin/python benches/demo_sizing.py loop --model tiny-llama-a --n-train 1000 \
        --epochs 6 --lr 2e-3 --k 8 --temperature 1.0 --sample-questions 300
    # the easy task, sampled at two temperatures, results to another file, tagged
    .venv/bin/python benches/demo_sizing.py --threads 2 --results /tmp/r.jsonl \
        --machine "this VM" loop --difficulty easy --temperature 0.8 1.0

Each run appends one JSON line (with the command line and `--machine`) to `--results`,
by default benches/results/demo_sizing.jsonl. `--threads` defaults to
all cores; numbers are only comparable on the same machine under the same load.
"""

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from collections import Counter, defaultdict

import torch

from rft.evaluation.eval_loop import evaluate_greedy
from rft.evaluation.scoring import accuracy_summary
from rft.models.loading import create_base_model, load_model_and_tokenizer
from rft.models.registry import resolve_model_spec
from rft.models.registry import TINY_CONFIGS
from rft.task.prompts import format_prompt, format_response
from rft.sampling.sampler import sample_paths
from rft.sampling.transformers_backend import make_backend
from rft.task.generator import embedded_task
from rft.training.trainer import TrainConfig, train_model
from rft.filter.path_verdict import verify_path

RESULTS = os.path.join(os.path.dirname(__file__), "results", "demo_sizing.jsonl")


def gold(q: dict) -> str:
    return q["answer"].split("####")[-1].strip()


def make_base(name: str, train: list[dict], vocab: int, seed: int, folder: str):
    spec = resolve_model_spec({"name": name, "vocab_size": vocab})
    texts = [format_prompt(q["question"]) + format_response(q["answer"]) for q in train]
    create_base_model(spec, texts, folder, seed)
    return load_model_and_tokenizer(folder)


def examples_of(questions: list[dict]) -> list[tuple[str, str]]:
    return [(format_prompt(q["question"]), format_response(q["answer"])) for q in questions]


def measure(args) -> list[dict]:
    """Training and generation throughput of each tiny config on 512 embedded problems."""
    train, _ = embedded_task(512, 1, seed=0)
    rows = []
    for name in TINY_CONFIGS:
        with tempfile.TemporaryDirectory() as tmp:
            model, tok = make_base(name, train, args.vocab, 0, f"{tmp}/base")
            n_params = sum(p.numel() for p in model.parameters())
            cfg = TrainConfig(max_steps=8, learning_rate=2e-3, global_batch_size=64,
                              micro_batch_size=args.micro_batch)
            stats = train_model(model, tok, examples_of(train), cfg, progress=False)
            # Generation speed with EOS out of reach: every row makes exactly max_new_tokens.
            model.generation_config.eos_token_id = None
            for batch in (64, 256):
                prompts = [format_prompt(q["question"]) for q in train[:batch]]
                enc = tok(prompts, return_tensors="pt", padding=True)
                start = time.perf_counter()
                with torch.inference_mode():
                    model.generate(**enc, do_sample=True, temperature=1.0, top_k=0,
                                   max_new_tokens=args.max_new_tokens, eos_token_id=None,
                                   pad_token_id=tok.pad_token_id)
                seconds = time.perf_counter() - start
                rows.append({"mode": "measure", "model": name, "n_params": n_params,
                             "train_tokens_per_s": round(stats.tokens_per_s),
                             "gen_batch": batch, "max_new_tokens": args.max_new_tokens,
                             "gen_tokens_per_s": round(batch * args.max_new_tokens / seconds)})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def loop(args) -> dict:
    """SFT, greedy eval, sampling and verification for one model, timed phase by phase."""
    train, test = embedded_task(args.n_train, args.n_test, seed=args.task_seed,
                                difficulty=args.difficulty)
    out = {"mode": "loop", **vars(args)}
    out.pop("func", None)
    with tempfile.TemporaryDirectory() as tmp:
        model, tok = make_base(args.model, train, args.vocab, args.seed, f"{tmp}/base")
        out["n_params"] = sum(p.numel() for p in model.parameters())
        cfg = TrainConfig(epochs=args.epochs, learning_rate=args.lr,
                          global_batch_size=args.batch, micro_batch_size=args.micro_batch,
                          warmup_ratio=0.05, seed=args.seed)
        stats = train_model(model, tok, examples_of(train), cfg, progress=not args.quiet)
        out["sft"] = stats.to_dict()
        backend = make_backend("transformers", model, tok, batch_size=args.gen_batch)
        questions = [{**q, "gold_answer": gold(q)} for q in test]
        start = time.perf_counter()
        rows = evaluate_greedy(backend, questions, args.max_new_tokens)
        out["eval_seconds"] = round(time.perf_counter() - start, 1)
        out["sft_test"] = accuracy_summary(rows)
        # Why greedy paths fail: wrong final answer, false equation, no answer, ...
        reasons = Counter((verify_path(r["text"], q["gold_answer"]).reject_reason or "ok")
                          .split(":")[0] for r, q in zip(rows, questions))
        out["sft_test_reasons"] = dict(reasons.most_common())
        out["sft_test_examples"] = [(q["answer"], r["text"]) for r, q in zip(rows[:3], test)]
        print(json.dumps({"sft_test": out["sft_test"], "sft_seconds": stats.seconds,
                          "eval_seconds": out["eval_seconds"]}), flush=True)
        # One sampling run per temperature; "sampling" keeps the first for older readers.
        out["sampling_by_temperature"] = {}
        for temperature in args.temperature:
            result = sample_and_verify(backend, train[:args.sample_questions], args, temperature)
            out["sampling_by_temperature"][str(temperature)] = result
            print(json.dumps({"temperature": temperature, **result}), flush=True)
        out["sampling"] = out["sampling_by_temperature"][str(args.temperature[0])]
    return out


def sample_and_verify(backend, questions: list[dict], args, temperature: float) -> dict:
    """Sample k paths per question; count correct paths and distinct correct equation lists."""
    golds = {q["question_id"]: gold(q) for q in questions}
    own = {q["question_id"]: q["answer"] for q in questions}
    correct, distinct, new_distinct = 0, defaultdict(set), defaultdict(set)
    n_rows, n_tokens, start = 0, 0, time.perf_counter()
    for row in sample_paths(backend, questions, k=args.k, temperature=temperature,
                            max_new_tokens=args.max_new_tokens, base_seed=0,
                            progress=not args.quiet):
        n_rows += 1
        n_tokens += row["n_new_tokens"]
        verdict = verify_path(row["text"], golds[row["question_id"]])
        if verdict.is_correct:
            correct += 1
            distinct[row["question_id"]].add(verdict.equation_list)
            if verdict.equation_list != verify_path(own[row["question_id"]], golds[
                    row["question_id"]]).equation_list:
                new_distinct[row["question_id"]].add(verdict.equation_list)
    seconds = time.perf_counter() - start
    n = len(questions)
    return {"n_questions": n, "n_paths": n_rows, "seconds": round(seconds, 1),
            "gen_tokens_per_s": round(n_tokens / seconds), "mean_new_tokens": n_tokens / n_rows,
            "correct_rate": correct / n_rows,
            "questions_with_a_correct_path": len(distinct) / n,
            "distinct_per_question": sum(map(len, distinct.values())) / n,
            "questions_with_2plus_distinct": sum(len(d) >= 2 for d in distinct.values()) / n,
            "new_distinct_per_question": sum(map(len, new_distinct.values())) / n}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument("--micro-batch", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--results", default=RESULTS, help="JSON lines file to append to")
    parser.add_argument("--machine", default=None, help="where it ran, recorded with the result")
    sub = parser.add_subparsers(required=True)
    sub.add_parser("measure").set_defaults(func=measure)
    p = sub.add_parser("loop")
    p.set_defaults(func=loop)
    p.add_argument("--model", default="tiny-llama-a", choices=sorted(TINY_CONFIGS))
    p.add_argument("--n-train", type=int, default=1000)
    p.add_argument("--n-test", type=int, default=400)
    p.add_argument("--epochs", type=float, default=6)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--gen-batch", type=int, default=256)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--temperature", type=float, nargs="+", default=[1.0],
                   help="one sampling run per temperature")
    p.add_argument("--difficulty", default="standard", choices=["standard", "easy"])
    p.add_argument("--sample-questions", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--task-seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    result = args.func(args)
    if isinstance(result, dict):
        result["total_seconds"] = round(time.perf_counter() - start, 1)
    tags = {"machine": args.machine, "cores": len(os.sched_getaffinity(0)),
            "command": shlex.join(["benches/demo_sizing.py", *sys.argv[1:]])}
    for row in result if isinstance(result, list) else [result]:
        row.update(tags)
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "a") as f:
        for row in result if isinstance(result, list) else [result]:
            f.write(json.dumps(row, default=str) + "\n")
    print(json.dumps(result, indent=1, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
