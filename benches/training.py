"""Full fine-tuning throughput (tokens/s) and model FLOPs utilisation on one GPU.

    python -m benches.training --weights SmolLM2-135M-Instruct.Q4_1.gguf \
        --gsm8k data/train.jsonl --steps 20 --micro-batches 16 64 --out results.jsonl

Trains with `rft.training.trainer.train_model` (the paper's settings: global batch 128, lr 2e-5,
cosine, bf16 autocast over float32 master weights) on GSM8K's gold solutions for `--steps`
optimizer steps, after a 2-step warm-up. Tokens are non-padding tokens. MFU counts
6 x parameters FLOPs per token (forward + backward of every matmul, the tied output layer
included) plus 12 x layers x width x mean sequence length for attention scores, against the
card's dense bf16 peak (989 TFLOP/s for H100 SXM and H200).
"""

from __future__ import annotations

import argparse
import json

import torch

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0}


def peak_tflops(device_name: str) -> float:
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in device_name:
            return value
    raise ValueError(f"no bf16 peak known for {device_name!r}")


def flops_per_token(model, mean_seq_len: float) -> float:
    cfg = model.config
    n_params = sum(p.numel() for p in model.parameters())
    return 6 * n_params + 12 * cfg.num_hidden_layers * cfg.hidden_size * mean_seq_len


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True, help="GGUF file, model folder or hub id")
    p.add_argument("--gsm8k", required=True, help="GSM8K train.jsonl")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--micro-batches", nargs="+", type=int, default=[16, 64])
    p.add_argument("--out", required=True, help="JSON lines file to append results to")
    args = p.parse_args(argv)

    from rft.models.loading import load_model_and_tokenizer
    from rft.task.prompts import format_prompt, format_response
    from rft.task.gsm8k import load_jsonl_questions
    from rft.training.trainer import TrainConfig, train_model

    questions = load_jsonl_questions(args.gsm8k, "train")
    examples = [(format_prompt(q["question"]), format_response(q["answer"])) for q in questions]
    device = torch.cuda.get_device_name()
    for micro in args.micro_batches:
        model, tokenizer = load_model_and_tokenizer(args.weights, device="cuda", dtype=torch.float32)
        warm = TrainConfig(max_steps=2, micro_batch_size=micro, seed=1)
        train_model(model, tokenizer, examples, warm, progress=False)
        cfg = TrainConfig(max_steps=args.steps, micro_batch_size=micro)
        torch.cuda.reset_peak_memory_stats()
        stats = train_model(model, tokenizer, examples, cfg, progress=False)
        seqs = args.steps * cfg.global_batch_size
        mean_len = stats.n_tokens / seqs
        achieved = stats.tokens_per_s * flops_per_token(model, mean_len)
        row = {"model": args.weights.rsplit("/", 1)[-1], "device": device, "method": "full",
               "micro_batch_size": micro, "global_batch_size": cfg.global_batch_size,
               "steps": args.steps, "tokens": stats.n_tokens, "mean_seq_len": round(mean_len, 1),
               "seconds": round(stats.seconds, 2), "tokens_per_s": round(stats.tokens_per_s, 1),
               "achieved_tflops": round(achieved / 1e12, 2),
               "mfu": round(achieved / (peak_tflops(device) * 1e12), 4),
               "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
