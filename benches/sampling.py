"""Sampling throughput on one GPU: plain `generate`, the static engine, and vLLM, same run.

Workload: SmolLM2-135M's shape, 200-token prompts, exactly 256
new tokens per sequence (EOS ignored), temperature 0.7, 1,024 and 8,192 sequences; then the
same with real SmolLM2-135M-Instruct weights (a GGUF file) on GSM8K prompts.

    python -m benches.sampling --engines generate static --out results.jsonl
    python -m benches.sampling --engines vllm --out results.jsonl        # in vLLM's environment
    python -m benches.sampling --weights model.gguf --gsm8k data/train.jsonl --engines static

Each measurement is one JSON line: engine, config, weights, n_sequences, new tokens, seconds
(prefill + decode; start-up and warm-up excluded), tokens/s, peak GPU memory. Engines that run
in one process free the GPU between measurements; vLLM runs in its own process (--engines vllm).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

SMOLLM2_SHAPE = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                     num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                     max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
                     tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)


# For rehearsing the script on a CPU: the same code path, a model 100x smaller.
REHEARSAL_SHAPE = {**SMOLLM2_SHAPE, "vocab_size": 1024, "hidden_size": 64, "intermediate_size": 128,
                   "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1}


def random_model(device: str, shape: dict):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**shape)).to(device=device, dtype=torch.bfloat16)
    return model.eval()


def random_prompts(n: int, length: int, vocab: int, seed: int = 0) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (n, length), generator=g).tolist()


def gsm8k_prompts(path: str, tokenizer, n: int) -> list[list[int]]:
    """The paper's prompt for GSM8K questions, cycled to n sequences."""
    from rft.task.prompts import format_prompt
    from rft.task.gsm8k import load_jsonl_questions

    questions = load_jsonl_questions(path, "train")
    ids = tokenizer([format_prompt(q["question"]) for q in questions])["input_ids"]
    return [ids[i % len(ids)] for i in range(n)]


def timed(fn):
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = fn()
    if cuda:
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def run_generate(model, prompts, new_tokens, temperature, batch):
    """transformers' own sampling, batches of `batch` left-padded prompts."""
    def padded(rows):
        width = max(map(len, rows))
        ids = torch.tensor([[0] * (width - len(r)) + r for r in rows], device=model.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device)
        return {"input_ids": ids, "attention_mask": mask}

    def go():
        for i in range(0, len(prompts), batch):
            model.generate(**padded(prompts[i:i + batch]), do_sample=True,
                           temperature=temperature, top_k=0, top_p=1.0,
                           max_new_tokens=new_tokens, min_new_tokens=new_tokens, pad_token_id=0)
    model.generate(**padded(prompts[:8]), do_sample=True, max_new_tokens=4, pad_token_id=0)  # warm-up
    return timed(go)[1]


def run_static(model, prompts, new_tokens, temperature, max_batch):
    from rft.sampling.static_engine import StaticDecoder

    width = max(map(len, prompts))
    decoder = StaticDecoder(model, max_batch=max_batch, max_len=-(-(width + new_tokens) // 64) * 64)
    seeds = list(range(len(prompts)))
    decoder.generate(prompts[:8], seeds[:8], temperature, 4, eos_id=None)  # capture the graph
    out, seconds = timed(lambda: decoder.generate(prompts, seeds, temperature, new_tokens,
                                                  eos_id=None))
    assert all(len(t) == new_tokens for t in out), "every row must get exactly new_tokens"
    del decoder
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return seconds


def start_vllm(model_dir: str, engine_args: dict):
    """An in-process vLLM engine (gpu.md: a child-process engine hung at start-up there)."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    from vllm import LLM

    return LLM(model=model_dir, dtype="bfloat16", skip_tokenizer_init=True, seed=0, **engine_args)


def run_vllm(llm, prompts, new_tokens, temperature):
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    params = SamplingParams(temperature=temperature, max_tokens=new_tokens, ignore_eos=True,
                            detokenize=False)
    inputs = [TokensPrompt(prompt_token_ids=p) for p in prompts]
    llm.generate(inputs[:8], params, use_tqdm=False)  # warm-up
    out, seconds = timed(lambda: llm.generate(inputs, params, use_tqdm=False))
    assert all(len(o.outputs[0].token_ids) == new_tokens for o in out)
    return seconds


VLLM_CONFIGS = {
    "defaults": {},
    "large-batch": {"max_num_seqs": 1024,  # max_num_seqs 1024, 64k tokens a step
                                                         "max_num_batched_tokens": 65536},
}


def summarize(rows: list[dict], weights: str, run: str | None = None) -> dict:
    """sampling.json: per sequence count, plain generate vs vLLM vs our best, same run."""
    rows = [r for r in rows if r["weights"] == weights and r.get("run") == run]
    entries = []
    for n in sorted({r["n_sequences"] for r in rows}):
        at_n = [r for r in rows if r["n_sequences"] == n]
        best = lambda engine: max((r for r in at_n if r["engine"] == engine),  # noqa: E731
                                  key=lambda r: r["tokens_per_s"], default=None)
        base, vllm, ours = best("generate"), best("vllm"), best("static")
        vllm_default = next((r for r in at_n if r["engine"] == "vllm" and r["config"] == "defaults"), None)
        entries.append({
            "n_sequences": n,
            "baseline_tokens_per_s": base and base["tokens_per_s"],
            "vllm_tokens_per_s": vllm_default and vllm_default["tokens_per_s"],
            "vllm_best_tokens_per_s": vllm and vllm["tokens_per_s"],
            "vllm_best_config": vllm and vllm["config"],
            "ours_tokens_per_s": ours and ours["tokens_per_s"],
            "ours_config": ours and ours["config"],
            "ours_vs_baseline": base and ours and round(ours["tokens_per_s"] / base["tokens_per_s"], 2),
            "ours_vs_vllm_defaults": vllm_default and ours and round(
                ours["tokens_per_s"] / vllm_default["tokens_per_s"], 2),
        })
    return {"model": "SmolLM2-135M" + (" (random weights)" if weights.startswith("random") else
                                      f" ({weights})"),
            "device": rows[0]["device"] if rows else None, "backend": "transformers (static engine)",
            "new_tokens_per_sequence": rows[0]["new_tokens_per_sequence"] if rows else None,
            "run": run, "entries": entries}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engines", nargs="+", default=["generate", "static"],
                   choices=["generate", "static", "vllm"])
    p.add_argument("--sequences", nargs="+", type=int, default=[1024, 8192])
    p.add_argument("--prompt-len", type=int, default=200)
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--static-batches", nargs="+", type=int, default=[1024, 2048, 4096],
                   help="max_batch values tried for the static engine (capped at n_sequences)")
    p.add_argument("--generate-max-sequences", type=int, default=1024,
                   help="plain generate is slow: only sequence counts up to this")
    p.add_argument("--rehearse", action="store_true",
                   help="CPU, a 2-layer model: checks the script, measures nothing useful")
    p.add_argument("--weights", help="GGUF file or model folder: real weights, GSM8K prompts")
    p.add_argument("--gsm8k", help="GSM8K train.jsonl (with --weights)")
    p.add_argument("--model-dir", help="where to save the model for vLLM (HF folder)")
    p.add_argument("--vllm-configs", nargs="+", default=list(VLLM_CONFIGS), choices=list(VLLM_CONFIGS),
                   help="one per process is safest: a second LLM in one process may not get the memory back")
    p.add_argument("--out", required=True, help="JSON lines file to append results to")
    p.add_argument("--summarize", metavar="JSON",
                   help="instead of measuring: write the summary of --out's rows to JSON")
    args = p.parse_args(argv)
    if args.summarize:
        with open(args.out) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        # Ratios only within one run (one command on one card): never across leases.
        runs = dict.fromkeys((r["weights"], r.get("run")) for r in rows)
        summary = {"runs": [summarize(rows, w, run) for w, run in runs]}
        # The headline fields the issue asks for: the first run that measured all three engines.
        complete = lambda e: e["baseline_tokens_per_s"] and e["vllm_tokens_per_s"] and e["ours_tokens_per_s"]  # noqa: E731
        first = next((r for r in summary["runs"] if any(complete(e) for e in r["entries"])), summary["runs"][0])
        head = next((e for e in first["entries"] if complete(e)), first["entries"][0])
        summary = {"model": first["model"], "device": first["device"], "backend": first["backend"],
                   **head, **summary}
        with open(args.summarize, "w") as f:
            json.dump(summary, f, indent=2)
        print(json.dumps(summary, indent=2))
        return summary

    device = "cpu" if args.rehearse else "cuda"
    shape = REHEARSAL_SHAPE if args.rehearse else SMOLLM2_SHAPE
    saved = bool(args.model_dir) and os.path.exists(os.path.join(args.model_dir, "config.json"))
    if args.weights and args.engines == ["vllm"] and saved:
        # vLLM reads the folder an earlier run saved; only the tokenizer is needed here, from the
        # same folder (loading the GGUF again in vLLM's environment pulls in its optional tokenizers).
        from transformers import AutoTokenizer

        model, tokenizer = None, AutoTokenizer.from_pretrained(args.model_dir)
        weights = os.path.basename(args.weights)
        prompts_for = lambda n: gsm8k_prompts(args.gsm8k, tokenizer, n)  # noqa: E731
    elif args.weights:
        from rft.models.loading import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(args.weights, device=device, dtype=torch.bfloat16)
        weights = os.path.basename(args.weights)
        prompts_for = lambda n: gsm8k_prompts(args.gsm8k, tokenizer, n)  # noqa: E731
    else:
        model = None if args.engines == ["vllm"] and args.model_dir and os.path.exists(
            os.path.join(args.model_dir, "config.json")) else random_model(device, shape)
        weights = "random (SmolLM2-135M shape)"
        prompts_for = lambda n: random_prompts(n, args.prompt_len, shape["vocab_size"])  # noqa: E731
    if args.model_dir and model is not None and not saved:
        model.save_pretrained(args.model_dir)
        if args.weights:
            tokenizer.save_pretrained(args.model_dir)

    gpu = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    rows = []

    def record(engine, config, n, seconds):
        row = {"engine": engine, "config": config, "weights": weights, "device": gpu,
               "n_sequences": n, "new_tokens_per_sequence": args.new_tokens,
               "temperature": args.temperature, "seconds": round(seconds, 3),
               "tokens_per_s": round(n * args.new_tokens / seconds, 1),
               "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)
               if device == "cuda" else None}
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")

    for n in args.sequences:
        prompts = prompts_for(n)
        if "generate" in args.engines and n <= args.generate_max_sequences:
            record("generate", "one batch of 1024, do_sample, top_k=0", n,
                   run_generate(model, prompts, args.new_tokens, args.temperature, 1024))
        if "static" in args.engines:
            for mb in sorted({min(b, n) for b in args.static_batches}):
                record("static", f"max_batch={mb}" + (", CUDA graph" if device == "cuda" else ""), n,
                       run_static(model, prompts, args.new_tokens, args.temperature, mb))
    if "vllm" in args.engines:
        model = None
        torch.cuda.empty_cache()
        for name in args.vllm_configs:
            engine_args = VLLM_CONFIGS[name]
            llm = start_vllm(args.model_dir, engine_args)
            for n in args.sequences:
                record("vllm", name, n, run_vllm(llm, prompts_for(n), args.new_tokens,
                                                 args.temperature))
            del llm
            torch.cuda.empty_cache()
    return rows


if __name__ == "__main__":
    main()
