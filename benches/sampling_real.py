"""Sampling on the real workload: GSM8K train prompts in the paper's format, k samples each,
EOS honoured, at most 256 new tokens; every engine in one command on one card.

    # engines that share the project's torch: plain generate, the static engine before
    # (benches/baselines/static_engine_v1.py) and after continuous batching, and the new engine
    # with EOS ignored (its fixed-length figure, same prompts)
    python -m benches.sampling_real --weights smollm2.gguf --gsm8k data/gsm8k/train.jsonl \
        --engines generate static_v1 static static_fixed --run R1 --out real.jsonl
    # vLLM, in the interpreter that has it (the model saved as a folder by an earlier call)
    python -m benches.sampling_real --weights smollm2.gguf --gsm8k data/gsm8k/train.jsonl \
        --engines vllm --model-dir ~/smol --run R1 --out real.jsonl
    # the real_workload section of benches/results/sampling.json, ratios within one run only
    python -m benches.sampling_real --summarize benches/results/sampling.json --out real.jsonl
    # CPU rehearsal of the same code path: a tiny model the project builds, 12 questions
    python -m benches.sampling_real --rehearse --gsm8k data/gsm8k/train.jsonl --questions 12 \
        --k 2 --rows 8 --engines generate static_v1 static static_fixed --out /tmp/real.jsonl

Every request has its seed (`rft.sampling.requests.sample_seed`), as in the product. Useful
tokens are the new tokens up to and including EOS; tokens/s = useful tokens / seconds of
prefill and decode (model load, graph capture and warm-up excluded). Each measurement is one
JSON line: engine, config, model, device, run, paths, useful tokens, paths cut at the limit,
seconds, tokens/s, paths/s, peak GPU memory.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

import torch

from benches.sampling import timed
from rft.sampling.requests import sample_seed
from rft.task.gsm8k import load_jsonl_questions
from rft.task.prompts import format_prompt

VLLM_CONFIGS = {"defaults": {}, "large-batch": {"max_num_seqs": 1024, "max_num_batched_tokens": 65536}}


def workload(path: str, tokenizer, n_questions: int, k: int) -> tuple[list[list[int]], list[int]]:
    """Prompt ids and seeds of k requests for each of the first n questions, sample-major."""
    questions = load_jsonl_questions(path, "train")[:n_questions]
    ids = tokenizer([format_prompt(q["question"]) for q in questions])["input_ids"]
    prompts, seeds = [], []
    for j in range(k):
        for q, p in zip(questions, ids):
            prompts.append(p)
            seeds.append(sample_seed(0, q["question_id"], j))
    return prompts, seeds


def useful(tokens: list[int], eos: int | None, limit: int) -> tuple[int, bool]:
    """New tokens up to and including the first EOS; whether the path was cut at the limit."""
    if eos is not None and eos in tokens:
        return tokens.index(eos) + 1, False
    return min(len(tokens), limit), True


def run_generate(model, tokenizer, prompts, seeds, args):
    """transformers' own sampling (do_sample, no top-k), batches of left-padded prompts."""
    pad = tokenizer.pad_token_id

    def batch(rows):
        width = max(map(len, rows))
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=model.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device)
        return {"input_ids": ids, "attention_mask": mask}

    def go():
        out = []
        for i in range(0, len(prompts), args.generate_batch):
            rows = prompts[i:i + args.generate_batch]
            ids = model.generate(**batch(rows), do_sample=True, temperature=args.temperature, top_k=0,
                                 top_p=1.0, max_new_tokens=args.max_new_tokens, pad_token_id=pad,
                                 eos_token_id=tokenizer.eos_token_id)
            out += ids[:, max(map(len, rows)):].tolist()
        return out

    model.generate(**batch(prompts[:8]), do_sample=True, max_new_tokens=4, pad_token_id=pad)  # warm-up
    return timed(go)


def run_static(decoder_class, model, prompts, seeds, eos, rows, args):
    width = max(map(len, prompts))
    decoder = decoder_class(model, max_batch=rows, max_len=-(-(width + args.max_new_tokens) // 64) * 64)
    decoder.generate(prompts[:rows], seeds[:rows], args.temperature, 4, eos_id=None)  # capture
    out = timed(lambda: decoder.generate(prompts, seeds, args.temperature, args.max_new_tokens, eos_id=eos))
    profile = getattr(decoder, "last_profile", None)  # the engine before this issue has none
    del decoder
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return (*out, profile)


def run_vllm(model_dir, prompts, seeds, eos, config, args):
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    llm = LLM(model=model_dir, dtype="bfloat16", skip_tokenizer_init=True, seed=0, **VLLM_CONFIGS[config])
    params = [SamplingParams(temperature=args.temperature, max_tokens=args.max_new_tokens, seed=s,
                             stop_token_ids=[eos], detokenize=False) for s in seeds]
    inputs = [TokensPrompt(prompt_token_ids=p) for p in prompts]
    llm.generate(inputs[:8], params[:8], use_tqdm=False)  # warm-up
    out, seconds = timed(lambda: llm.generate(inputs, params, use_tqdm=False))
    del llm
    torch.cuda.empty_cache()
    # vLLM leaves a special stop token out of token_ids; put EOS back so that its useful tokens
    # and its paths cut at the limit count the same way as the other engines'.
    return [list(c.token_ids) + ([eos] if c.finish_reason == "stop" and eos not in c.token_ids else [])
            for c in (o.outputs[0] for o in out)], seconds


def load(args):
    if args.rehearse:
        from rft.models.loading import create_base_model
        from rft.models.registry import resolve_model_spec

        questions = load_jsonl_questions(args.gsm8k, "train")[:200]
        folder = os.path.join(tempfile.mkdtemp(prefix="sampling-real-"), "tiny")
        model, tokenizer = create_base_model(resolve_model_spec("tiny-llama-a"),
                                             [q["question"] for q in questions], folder, seed=0)
        return model.eval(), tokenizer, "tiny-llama-a (random weights)"
    from rft.models.loading import load_model_and_tokenizer

    if args.engines == ["vllm"]:  # vLLM reads the saved folder; only the tokenizer is needed here
        from transformers import AutoTokenizer

        return None, AutoTokenizer.from_pretrained(args.model_dir), os.path.basename(args.weights)
    model, tokenizer = load_model_and_tokenizer(args.weights, dtype=torch.bfloat16)
    if args.model_dir and not os.path.exists(os.path.join(args.model_dir, "config.json")):
        model.save_pretrained(args.model_dir)
        tokenizer.save_pretrained(args.model_dir)
    return model, tokenizer, os.path.basename(args.weights)


def measure(args) -> list[dict]:
    model, tokenizer, model_name = load(args)
    eos = tokenizer.eos_token_id
    prompts, seeds = workload(args.gsm8k, tokenizer, args.questions, args.k)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    rows = []

    def record(engine, config, outputs, seconds, ignore_eos=False, profile=None):
        counted = [useful(t, None if ignore_eos else eos, args.max_new_tokens) for t in outputs]
        tokens = sum(n for n, _ in counted)
        row = {"engine": engine, "config": config, "model": model_name, "device": device, "run": args.run,
               "n_questions": args.questions, "k": args.k, "paths": len(outputs),
               "max_new_tokens": args.max_new_tokens, "eos_honoured": not ignore_eos,
               "useful_tokens": tokens, "paths_cut_at_limit": sum(cut for _, cut in counted),
               "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds, 1),
               "paths_per_s": round(len(outputs) / seconds, 1),
               "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device != "cpu" else None}
        if profile:
            row["profile"] = profile
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")

    if "generate" in args.engines:
        out, s = run_generate(model, tokenizer, prompts, seeds, args)
        record("generate", f"batches of {args.generate_batch}, do_sample, top_k=0", out, s)
    for engine in ("static_v1", "static", "static_fixed"):
        if engine not in args.engines:
            continue
        if engine == "static_v1":
            from benches.baselines.static_engine_v1 import StaticDecoder
        else:
            from rft.sampling.static_engine import StaticDecoder
        for n_rows in args.rows:
            out, s, profile = run_static(StaticDecoder, model, prompts, seeds,
                                         None if engine == "static_fixed" else eos, n_rows, args)
            record(engine, f"rows={n_rows}" + (", CUDA graph" if device != "cpu" else ""), out, s,
                   ignore_eos=engine == "static_fixed", profile=profile)
    if "vllm" in args.engines:
        for config in args.vllm_configs:
            out, s = run_vllm(args.model_dir, prompts, seeds, eos, config, args)
            record("vllm", config, out, s)
    return rows


def breakdown(row: dict | None) -> dict | None:
    """Where one static-engine measurement's time went, from its profile: prefill seconds, the
    rest (decode and host work), slot-steps decoded (batch width x steps) and the share of them
    that made a useful token."""
    if not row or "profile" not in row:
        return None
    profile = row["profile"]
    slot_steps = sum(int(width) * n for width, n in profile["decode_steps"].items())
    prefill = profile["prefill_seconds"]
    return {"prefill_seconds": prefill, "prefill_calls": profile["prefill_calls"],
            "prefill_share": round(prefill / row["seconds"], 3),
            "decode_seconds": round(row["seconds"] - prefill, 3), "slot_steps": slot_steps,
            "useful_share_of_slot_steps": round(row["useful_tokens"] / slot_steps, 3),
            "microseconds_per_slot_step": round(1e6 * (row["seconds"] - prefill) / slot_steps, 2)}


def ideal_share_of_fixed(ours: dict | None, fixed: dict | None) -> float | None:
    """The share of the fixed-length figure an engine would reach on the real workload if its
    prefill cost what the fixed-length run's two full-batch prefills cost and every slot-step it
    decoded made a useful token, at the fixed-length run's cost per slot-step. An estimate: the
    real workload's rows are shorter, so their attention costs a little less."""
    b = breakdown(fixed)
    if not breakdown(ours) or not b:
        return None
    seconds = b["prefill_seconds"] + ours["useful_tokens"] * b["microseconds_per_slot_step"] / 1e6
    return round(ours["useful_tokens"] / seconds / fixed["tokens_per_s"], 3)


def summarize(rows: list[dict]) -> dict:
    """The real_workload section: per run, the best of each engine and the ratios the issue asks."""
    runs = []
    for run in dict.fromkeys((r["run"], r["model"], r["device"]) for r in rows):
        at = [r for r in rows if (r["run"], r["model"], r["device"]) == run]

        def best(engine, config=None):
            found = [r for r in at if r["engine"] == engine and (config is None or r["config"] == config)]
            return max(found, key=lambda r: r["tokens_per_s"], default=None)

        ours, fixed, before = best("static"), best("static_fixed"), best("static_v1")
        base, vllm, vllm_best = best("generate"), best("vllm", "defaults"), best("vllm")
        rate = lambda r: r and r["tokens_per_s"]  # noqa: E731
        ratio = lambda a, b: round(a["tokens_per_s"] / b["tokens_per_s"], 2) if a and b else None  # noqa: E731
        runs.append({
            "run": run[0], "model": run[1], "device": run[2],
            "ours_tokens_per_s": rate(ours), "ours_config": ours and ours["config"],
            "ours_paths_per_s": ours and ours["paths_per_s"], "ours_peak_gpu_gb": ours and ours["peak_gpu_gb"],
            "ours_fixed_length_tokens_per_s": rate(fixed),
            "ours_share_of_fixed_length": ratio(ours, fixed),
            "before_tokens_per_s": rate(before), "ours_vs_before": ratio(ours, before),
            "baseline_tokens_per_s": rate(base), "ours_vs_baseline": ratio(ours, base),
            "vllm_tokens_per_s": rate(vllm), "ours_vs_vllm_defaults": ratio(ours, vllm),
            "vllm_best_tokens_per_s": rate(vllm_best), "vllm_best_config": vllm_best and vllm_best["config"],
            "ours_breakdown": breakdown(ours), "fixed_length_breakdown": breakdown(fixed),
            "ideal_share_of_fixed_length": ideal_share_of_fixed(ours, fixed),
            "measurements": at,
        })
    return {"runs": runs}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="GGUF file or model folder (real weights)")
    p.add_argument("--gsm8k", help="GSM8K train.jsonl")
    p.add_argument("--questions", type=int, default=1000, help="first N train questions")
    p.add_argument("--k", type=int, default=8, help="samples per question")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--engines", nargs="+", default=["generate", "static_v1", "static", "static_fixed"],
                   choices=["generate", "static_v1", "static", "static_fixed", "vllm"])
    p.add_argument("--rows", nargs="+", type=int, default=[1024, 4096], help="static engine batch rows")
    p.add_argument("--generate-batch", type=int, default=1024)
    p.add_argument("--vllm-configs", nargs="+", default=list(VLLM_CONFIGS), choices=list(VLLM_CONFIGS))
    p.add_argument("--model-dir", help="the model saved as a folder, for vLLM")
    p.add_argument("--run", default="local", help="names one command's measurements: ratios stay within it")
    p.add_argument("--rehearse", action="store_true", help="CPU: a tiny model the project builds")
    p.add_argument("--out", required=True, help="JSON lines file to append measurements to")
    p.add_argument("--summarize", metavar="JSON", help="write the real_workload section into this file")
    args = p.parse_args(argv)
    if args.summarize:
        with open(args.out) as f:
            section = summarize([json.loads(line) for line in f if line.strip()])
        record = json.load(open(args.summarize)) if os.path.exists(args.summarize) else {}
        record["real_workload"] = section
        with open(args.summarize, "w") as f:
            json.dump(record, f, indent=2)
        print(json.dumps({k: v for k, v in section["runs"][-1].items() if k != "measurements"}, indent=2))
        return section
    if not args.gsm8k or not (args.weights or args.rehearse):
        p.error("--gsm8k and --weights (or --rehearse) are needed to measure")
    return measure(args)


if __name__ == "__main__":
    main()
