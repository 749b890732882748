"""The paper's central setting: k=100 samples per GSM8K train question, from Qwen2.5-Coder-0.5B's
SFT model, through the product's own sample step; then the pipeline's import, verification and
deduplication, and the figures: correct and distinct paths per question, pass@k up to 100, and
how the distinct paths grow with k.

    # GPU machine, as many calls as it takes: each resumes where the last stopped (the sample
    # step keeps finished chunks in <work>/samples.parquet.parts), then splits the result into
    # pieces small enough to come back (15 MB) and copies the ones named by --pieces to --out
    python -m benches.gsm8k_k100 sample --base ~/g/qwen.gguf --gsm8k data/gsm8k --work ~/k100 \
        --out $OUT --pieces 0 1 2 3
    # CPU machine: every piece through `rft import` (the pipeline's verification and dedup),
    # then benches/results/gsm8k_k100.json
    python -m benches.gsm8k_k100 analyze --pieces k100_pieces/ --gsm8k data/gsm8k \
        --home .k100_home --json benches/results/gsm8k_k100.json
    # CPU rehearsal of the GPU part with a tiny model and 12 questions
    python -m benches.gsm8k_k100 sample --base tiny-llama-a --gsm8k data/gsm8k --work /tmp/k100 \
        --out /tmp/k100-out --k 4 --limit 12

The SFT model is trained exactly as benches/gsm8k_controls.py trains its sampling model (seed
42, the paper's settings), so the k=8 samples recorded there are the first 8 of these 100 in
distribution (not in text: the sampling seeds are per (question, sample), base seed 0, the same).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd

from benches.gsm8k_controls import SAMPLED_FROM, SAMPLING_SEED, Runner
from benches.gsm8k_rft import run_step
from rft.evaluation.pass_at_k import pass_at_k_curve
from rft.steps.step_specs import SampleSpec

PIECE_BYTES = 15 * 2**20  # files come back from the GPU machine in at most 16 MB each
GROWTH_KS = [1, 3, 6, 12, 25, 50, 100]  # the paper's k values
# The paper's figures beside which ours are recorded (Yuan et al. 2023, arXiv 2308.01825v2):
# Table 2, distinct reasoning paths (equation lists) per question among k samples of each SFT
# model; Table 1, correct paths per question at k=100. LLaMA models of 7B to 33B parameters.
PAPER = {
    "source": "Yuan et al. 2023, arXiv 2308.01825v2, Table 1 (k=100) and Table 2 (k=1..100)",
    "distinct_per_question": {
        "LLaMA-7B": {1: 1.17, 3: 1.44, 6: 1.74, 12: 2.20, 25: 2.93, 50: 3.94, 100: 5.25},
        "LLaMA2-7B": {1: 1.19, 3: 1.47, 6: 1.78, 12: 2.23, 25: 2.93, 50: 3.91, 100: 5.19},
        "LLaMA-13B": {1: 1.15, 3: 1.41, 6: 1.69, 12: 2.11, 25: 2.88, 50: 3.90, 100: 5.26},
        "LLaMA2-13B": {1: 1.18, 3: 1.45, 6: 1.76, 12: 2.21, 25: 2.94, 50: 3.94, 100: 5.29},
        "LLaMA-33B": {1: 1.06, 3: 1.16, 6: 1.28, 12: 1.46, 25: 1.77, 50: 2.19, 100: 2.78},
    },
    "correct_per_question_k100": {"LLaMA-7B": 53.3, "LLaMA2-7B": 60.8, "LLaMA-13B": 62.5,
                                  "LLaMA2-13B": 71.6, "LLaMA-33B": 88.7},
}


def split_into_pieces(samples: str, folder: str, max_bytes: int = PIECE_BYTES) -> list[str]:
    """samples.parquet -> samples-000.parquet, ... each under max_bytes (by rows, zstd)."""
    os.makedirs(folder, exist_ok=True)
    for old in glob.glob(os.path.join(folder, "samples-*.parquet")):
        os.remove(old)
    table = pd.read_parquet(samples)
    text_bytes = int(table["text"].str.len().sum()) + 1
    # zstd packs this text about 3x; aim at half the limit per piece so none goes over it
    n_pieces = max(1, -(-text_bytes // (max_bytes * 3 // 2)))
    size = -(-len(table) // n_pieces)
    paths = []
    for i, start in enumerate(range(0, len(table), size)):
        path = os.path.join(folder, f"samples-{i:03d}.parquet")
        table.iloc[start:start + size].to_parquet(path, index=False, compression="zstd")
        if os.path.getsize(path) > max_bytes:
            raise RuntimeError(f"{path} is {os.path.getsize(path)} bytes, over {max_bytes}: lower PIECE_BYTES")
        paths.append(path)
    return paths


def cmd_sample(args) -> None:
    controls = SimpleNamespace(name="qwen2.5-coder-0.5b", work=args.work, gsm8k=args.gsm8k, limit=args.limit,
                               base=args.base, results=[], micro_batch=args.micro_batch, train_config={},
                               max_new_tokens=args.max_new_tokens, batch=args.batch)
    runner = Runner(controls)
    checkpoint = os.path.join(args.work, SAMPLED_FROM)
    if not os.path.exists(os.path.join(checkpoint, "train_stats.json")):
        runner.base()
        runner.train(SAMPLED_FROM, runner.paths["sft"], SAMPLING_SEED)
    samples = os.path.join(args.work, "samples.parquet")
    if not os.path.exists(samples):
        spec = SampleSpec(checkpoint=checkpoint, questions=runner.paths["train"], k=args.k, temperature=0.7,
                          max_new_tokens=args.max_new_tokens, base_seed=0, batch_size=args.batch,
                          output=samples, chunk_rows=args.chunk_rows, progress=False)
        summary = run_step(spec, os.path.join(args.work, "sample.json"))
        with open(os.path.join(args.work, "sample_summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
    pieces = split_into_pieces(samples, os.path.join(args.work, "pieces"))
    os.makedirs(args.out, exist_ok=True)
    for i in args.pieces:
        if i < len(pieces):
            subprocess.run(["cp", pieces[i], args.out], check=True)
    subprocess.run(["cp", os.path.join(args.work, "sample_summary.json"), args.out], check=False)
    print(json.dumps({"pieces": len(pieces), "copied": [i for i in args.pieces if i < len(pieces)]}))


def per_question(verified: pd.DataFrame, k_max: int) -> pd.DataFrame:
    """One row per question: correct paths, distinct equation lists, first correct sample index."""
    correct = verified[verified["is_correct"]]
    grouped = correct.groupby("question_id")
    out = pd.DataFrame({"question_id": sorted(verified["question_id"].unique())})
    out["n_correct"] = out["question_id"].map(grouped.size()).fillna(0).astype(int)
    out["n_distinct"] = out["question_id"].map(grouped["equation_list"].nunique()).fillna(0).astype(int)
    out["first_correct_idx"] = out["question_id"].map(grouped["sample_idx"].min())
    out["n_samples"] = k_max
    return out


def distinct_growth(verified: pd.DataFrame, ks: list[int]) -> list[dict]:
    """Per k: mean distinct equation lists per question among the first k samples, and their total."""
    correct = verified[verified["is_correct"]]
    n_questions = verified["question_id"].nunique()
    rows = []
    for k in ks:
        first_k = correct[correct["sample_idx"] < k]
        distinct = first_k.groupby("question_id")["equation_list"].nunique()
        rows.append({"k": k, "distinct_paths": int(distinct.sum()),
                     "distinct_per_question": round(float(distinct.sum()) / n_questions, 3),
                     "questions_with_a_correct_path": int(len(distinct))})
    return rows


def cmd_analyze(args) -> None:
    pieces = sorted(glob.glob(os.path.join(args.pieces, "samples-*.parquet")))
    combined = os.path.join(args.home, "k100_samples.parquet")
    os.makedirs(args.home, exist_ok=True)
    pd.concat([pd.read_parquet(p) for p in pieces], ignore_index=True).to_parquet(combined, index=False)
    sets = os.path.join(args.home, "sets")
    subprocess.run([sys.executable, "-m", "benches.gsm8k_rft", "filter", "--samples", f"qwen={combined}",
                    "--gsm8k", args.gsm8k, "--home", args.home, "--out", sets], check=True)
    os.environ["RFT_HOME"] = os.path.abspath(args.home)
    from rft_dagster.resources import default_resources

    lake = default_resources()["spark"].lakehouse()
    verified = lake.table("verified_paths").select(
        "question_id", "sample_idx", "is_correct", "equation_list").toPandas()
    k_max = int(verified["sample_idx"].max()) + 1
    questions = per_question(verified, k_max)
    curve = pass_at_k_curve(questions.assign(model="qwen"))
    record = {
        "model": "Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M), SFT seed 42", "k": k_max,
        "n_questions": len(questions), "n_samples": len(verified),
        "n_correct": int(verified["is_correct"].sum()),
        "distinct_paths_rft_set": json.load(open(os.path.join(sets, "filter_summary.json")))["sets"],
        "per_question": {"mean_correct": round(float(questions["n_correct"].mean()), 3),
                         "mean_distinct": round(float(questions["n_distinct"].mean()), 3),
                         "median_distinct": float(questions["n_distinct"].median()),
                         "share_with_a_correct_path": round(float((questions["n_correct"] > 0).mean()), 4)},
        "pass_at_k": curve[["k", "n_solved", "pass_at_k"]].to_dict("records"),
        "distinct_growth": distinct_growth(verified, [k for k in GROWTH_KS if k <= k_max]),
        "paper": PAPER,
        "sample_summary": json.load(open(os.path.join(args.pieces, "sample_summary.json")))
        if os.path.exists(os.path.join(args.pieces, "sample_summary.json")) else None,
    }
    with open(args.json, "w") as f:
        json.dump(record, f, indent=2, default=str)
    print(json.dumps({k: v for k, v in record.items() if k != "pass_at_k"}, indent=2, default=str))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="GPU: SFT (if missing), k samples per train question, pieces")
    s.add_argument("--base", required=True, help="base model: GGUF file, folder or tiny name")
    s.add_argument("--gsm8k", required=True)
    s.add_argument("--work", required=True, help="scratch folder kept between calls")
    s.add_argument("--out", required=True, help="folder for the pieces to bring back")
    s.add_argument("--pieces", type=int, nargs="*", default=[0, 1, 2, 3], help="piece numbers to copy to --out")
    s.add_argument("--k", type=int, default=100)
    s.add_argument("--limit", type=int, help="first N questions of each split (rehearsals)")
    s.add_argument("--batch", type=int, default=4096, help="rows the static engine decodes at once")
    s.add_argument("--chunk-rows", type=int, default=32768, help="paths per resumable chunk")
    s.add_argument("--micro-batch", type=int, default=16)
    s.add_argument("--max-new-tokens", type=int, default=256)
    s.set_defaults(func=cmd_sample)
    a = sub.add_parser("analyze", help="CPU: the pieces through the pipeline; the figures as JSON")
    a.add_argument("--pieces", required=True, help="folder with samples-NNN.parquet")
    a.add_argument("--gsm8k", required=True)
    a.add_argument("--home", required=True, help="RFT_HOME for this lakehouse")
    a.add_argument("--json", default="benches/results/gsm8k_k100.json")
    a.set_defaults(func=cmd_analyze)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
