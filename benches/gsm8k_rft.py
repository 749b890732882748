"""A real GSM8K RFT run, split where the machines split: GPU steps and the CPU filter.

    # GPU machine: SFT on GSM8K train, greedy eval on test, k samples per train question
    python -m benches.gsm8k_rft sft-sample --base model.gguf --name smollm2-135m \
        --gsm8k data/gsm8k --work ~/rft --k 8 --out out/
    # CPU machine: the project's own import + Spark verification + dedup (own and union sets)
    python -m benches.gsm8k_rft filter --samples smollm2-135m=out/smollm2-135m.samples.parquet \
        --gsm8k data/gsm8k --home .gsm8k_home --out sets/
    # GPU machine: RFT from the base on SFT data + each set, greedy eval on test
    python -m benches.gsm8k_rft rft-eval --base model.gguf --name smollm2-135m \
        --gsm8k data/gsm8k --work ~/rft --sets sets/*.parquet --out out/
    # anywhere: the results table, into benches/results/gsm8k_rft.json's "earlier_uncontrolled_run"
    python -m benches.gsm8k_rft report --results out/ --filter sets/filter_summary.json

The GPU steps are the pipeline's own external steps (`rft.steps.train`, `rft.steps.evaluate`,
`rft.steps.sample`) run with the paper's settings (3 epochs, lr 2e-5, global batch 128,
cosine, 3% warm-up, max length 512; T=0.7; greedy evaluation on all 1,319 test questions).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pandas as pd

from benches.gsm8k_controls_report import EARLIER_KEY
from rft.filter.answers import extract_answer
from rft.filter.pools import OWN_PREFIX, UNION_POOL, own_pool, pool_model
from rft.evaluation.significance import holm_adjust, mcnemar_p_value, wilson_interval
from rft.steps.step_specs import BaseModelSpec, EvaluateSpec, SampleSpec, StepSpec, TrainSpec, write_spec
from rft.task.prompts import format_prompt, format_response
from rft.task.gsm8k import load_jsonl_questions


def write_questions(gsm8k: str, work: str, limit: int | None = None) -> dict[str, str]:
    """Train/test questions and SFT examples as the steps read them; returns their paths."""
    os.makedirs(work, exist_ok=True)
    paths = {}
    for split in ("train", "test"):
        rows = load_jsonl_questions(os.path.join(gsm8k, f"{split}.jsonl"), split, limit=limit)
        for r in rows:
            r["gold_answer"] = extract_answer(r["answer"])
        paths[split] = os.path.join(work, f"{split}_questions.parquet")
        pd.DataFrame(rows).to_parquet(paths[split], index=False)
        if split == "train":
            paths["sft"] = os.path.join(work, "sft_data.parquet")
            pd.DataFrame({"prompt": [format_prompt(r["question"]) for r in rows],
                          "response": [format_response(r["answer"]) for r in rows]}
                         ).to_parquet(paths["sft"], index=False)
    return paths


def run_step(spec: StepSpec, spec_path: str) -> dict:
    """One pipeline step as its own process, exactly as Dagster Pipes launches it."""
    write_spec(spec, spec_path)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", f"rft.steps.{spec.step}", "--spec", spec_path],
                          check=True, stdout=subprocess.PIPE, text=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(f"[{spec.step}] {json.dumps(summary)}", flush=True)
    return summary


TRAIN_OPTIONS: dict = {}  # --train-config: TrainConfig fields on top of the paper's defaults


def train(base: str, data: str, out_dir: str, work: str, tag: str, micro_batch: int) -> dict:
    spec = TrainSpec(base=BaseModelSpec(spec=base), train_data=data, output_dir=out_dir,
                     train_config={"micro_batch_size": micro_batch, **TRAIN_OPTIONS}, progress=False)
    return run_step(spec, os.path.join(work, f"train_{tag}.json"))


def evaluate(checkpoint: str, test: str, output: str, work: str, tag: str, batch: int,
             max_new_tokens: int) -> dict:
    spec = EvaluateSpec(checkpoint=checkpoint, questions=test, output=output, max_new_tokens=max_new_tokens,
                        batch_size=batch, progress=False)
    return run_step(spec, os.path.join(work, f"eval_{tag}.json"))


def finished(summary_file: str) -> dict | None:
    """What a step wrote when it finished, or None: a device call cut at its time limit is
    run again with the same command and goes on after its last finished step."""
    if not os.path.exists(summary_file):
        return None
    with open(summary_file) as f:
        summary = json.load(f)
    print(f"[skip] {summary_file} exists: done in an earlier call", flush=True)
    return summary


def cmd_sft_sample(args) -> None:
    paths = write_questions(args.gsm8k, args.work, args.limit)
    sft_dir = os.path.join(args.work, f"{args.name}-sft")
    summaries = {"train_sft": finished(os.path.join(sft_dir, "train_stats.json"))
                 or train(args.base, paths["sft"], sft_dir, args.work, "sft", args.micro_batch)}
    eval_out = os.path.join(args.out, f"{args.name}.sft.eval.parquet")
    kept_eval = os.path.join(args.work, os.path.basename(eval_out))
    if os.path.exists(kept_eval):  # $OUT is empty at each call; the work folder is not
        shutil.copy(kept_eval, eval_out)
        summaries["eval_sft"] = finished(kept_eval + ".json")
    else:
        summaries["eval_sft"] = evaluate(sft_dir, paths["test"], eval_out, args.work, "sft",
                                         args.batch, args.max_new_tokens)
        shutil.copy(eval_out, kept_eval)
        with open(kept_eval + ".json", "w") as f:
            json.dump(summaries["eval_sft"], f)
    samples = os.path.join(args.work, f"{args.name}.samples.parquet")
    spec = SampleSpec(checkpoint=sft_dir, questions=paths["train"], k=args.k, temperature=0.7,
                      max_new_tokens=args.max_new_tokens, base_seed=0, batch_size=args.batch, output=samples,
                      chunk_rows=8192, progress=False)
    summaries["sample"] = run_step(spec, os.path.join(args.work, "sample.json"))
    shutil.copy(samples, os.path.join(args.out, os.path.basename(samples)))
    with open(os.path.join(args.out, f"{args.name}.sft_sample.json"), "w") as f:
        json.dump(summaries, f, indent=2)


def cmd_filter(args) -> None:
    """Import every model's samples into a lakehouse; verify + dedup there; export the sets."""
    os.makedirs(args.out, exist_ok=True)
    gens = []
    for item in args.samples:
        model, path = item.split("=", 1)
        rows = pd.read_parquet(path, columns=["question_id", "sample_idx", "text"])
        gens.append(os.path.join(args.out, f"gens_{model}.parquet"))
        rows.assign(model=model).to_parquet(gens[-1], index=False)
    env = {**os.environ, "RFT_HOME": os.path.abspath(args.home)}
    subprocess.run([sys.executable, "-m", "rft_dagster.cli", "import", *gens, "--questions",
                    os.path.join(args.gsm8k, "train.jsonl")], check=True, env=env)

    os.environ["RFT_HOME"] = env["RFT_HOME"]
    from rft_dagster.resources import default_resources
    from spark_jobs.run_results import funnel_counts

    lake = default_resources()["spark"].lakehouse()
    # The pipeline's own funnel counts (what `rft import` prints), kept as records in the JSON.
    counts, pools = funnel_counts(lake.table("verified_paths"), lake.table("distinct_paths"))
    summary = {"verified": counts.to_dict("records"), "distinct": pools.to_dict("records"), "sets": {}}
    questions = lake.table("questions").select("question_id", "question")
    sets = lake.table("rft_dataset_rows").join(questions, "question_id").toPandas()
    for name, rows in sets.groupby("dataset"):
        out = os.path.join(args.out, f"rft_{set_tag(name)}.parquet")
        pd.DataFrame({"prompt": rows["question"].map(format_prompt),
                      "response": rows["text"].map(format_response)}).to_parquet(out, index=False)
        summary["sets"][name] = {"file": os.path.basename(out), "rows": len(rows)}
    with open(os.path.join(args.out, "filter_summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str)
    print(json.dumps(summary, indent=2, default=str))


def recorded_distinct(filtered: dict) -> dict[str, int]:
    """Distinct paths per pool as `filter` recorded them in filter_summary.json (funnel_counts' pools)."""
    return {d["pool"]: d["distinct"] for d in filtered["distinct"]}


def cmd_rft_eval(args) -> None:
    paths = write_questions(args.gsm8k, args.work, args.limit)
    sft = pd.read_parquet(paths["sft"])
    summaries = {}
    for set_file in args.sets:
        tag = os.path.basename(set_file)[len("rft_"):-len(".parquet")]
        data = os.path.join(args.work, f"rft_data_{tag}.parquet")
        pd.concat([sft, pd.read_parquet(set_file)], ignore_index=True).to_parquet(data, index=False)
        out_dir = os.path.join(args.work, f"{args.name}-rft-{tag}")
        summaries[f"train_{tag}"] = train(args.base, data, out_dir, args.work, tag,
                                          args.micro_batch)
        eval_out = os.path.join(args.out, f"{args.name}.rft-{tag}.eval.parquet")
        summaries[f"eval_{tag}"] = evaluate(out_dir, paths["test"], eval_out, args.work, tag,
                                            args.batch, args.max_new_tokens)
        shutil.rmtree(out_dir)  # 0.5 GB each; the eval rows are what we keep
    with open(os.path.join(args.out, f"{args.name}.rft_eval.json"), "w") as f:
        json.dump(summaries, f, indent=2)


EVAL_FILE = re.compile(r"^(?P<model>.+?)\.(?P<stage>sft|rft-.+)\.eval\.parquet$")


def _model_and_stage(path: str) -> tuple[str, str]:
    """'qwen2.5-coder-0.5b.rft-union.eval.parquet' -> ('qwen2.5-coder-0.5b', 'rft-union'):
    model names hold dots, so the stage is found by what it starts with."""
    match = EVAL_FILE.match(os.path.basename(path))
    if not match:
        raise ValueError(f"{path}: expected MODEL.sft.eval.parquet or MODEL.rft-SET.eval.parquet")
    return match["model"], match["stage"]


def _table_order(path: str) -> tuple:
    model, stage = _model_and_stage(path)
    return model, stage != "sft", _training_set(stage) == UNION_POOL, stage  # SFT, then own sets, then the union


def _greedy_verdicts(path: str) -> pd.Series:
    rows = pd.read_parquet(path, columns=["question_id", "metric", "is_correct"])
    return rows[rows["metric"] == "maj1@1"].set_index("question_id")["is_correct"].astype(bool)


FILE_OWN_PREFIX = OWN_PREFIX.replace(":", "_")  # a set's name in file names: no ':' there


def set_tag(training_set: str) -> str:
    """A training set's name in file names: 'own:qwen2.5' -> 'own_qwen2.5', 'union' -> 'union'."""
    model = pool_model(training_set)
    return training_set if model is None else f"{FILE_OWN_PREFIX}{model}"


def rft_stage(training_set: str) -> str:
    """The stage in eval file names of RFT on a set: 'own:qwen2.5' -> 'rft-own_qwen2.5'."""
    return f"rft-{set_tag(training_set)}"


def _training_set(stage: str) -> str:
    """'rft-own_qwen2.5' -> 'own:qwen2.5' (the pool name, rft.filter.pools), 'sft' -> 'sft'."""
    if stage == "sft":
        return "sft"
    tag = stage.removeprefix("rft-")
    return own_pool(tag.removeprefix(FILE_OWN_PREFIX)) if tag.startswith(FILE_OWN_PREFIX) else tag


def load_verdicts(results: str) -> dict[tuple[str, str], pd.Series]:
    """(model, stage) -> greedy verdict per test question, in table order; each file read once."""
    paths = sorted(glob.glob(os.path.join(results, "*.eval.parquet")), key=_table_order)
    return {_model_and_stage(path): _greedy_verdicts(path) for path in paths}


def paired(a: pd.Series, b: pd.Series, what: str) -> dict:
    """a's greedy verdicts against b's on b's questions: n, a's gain, the discordant counts, McNemar's p."""
    a = a.reindex(b.index)
    if a.isna().any():
        raise ValueError(f"{what}: the two evaluations do not grade the same questions")
    a = a.astype(bool)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    return {"n_test": len(b), "gain": round((int(a.sum()) - int(b.sum())) / len(b), 4),
            "only_a": only_a, "only_b": only_b, "mcnemar_p": round(mcnemar_p_value(only_a, only_b), 4)}


def paired_comparisons(verdicts: dict[tuple[str, str], pd.Series]) -> list[dict]:
    """Each RFT model against its own SFT model, question by question (exact McNemar test)."""
    comparisons = []
    for (model, stage), rft in verdicts.items():
        sft = verdicts.get((model, "sft"))
        if stage == "sft" or sft is None:
            continue
        test = paired(rft, sft, f"{model}: {stage} against sft")
        comparisons.append({
            "model": model, "stage": stage, "training_set": _training_set(stage), "versus": "sft",
            "n_test": test["n_test"], "gain": test["gain"], "only_rft_correct": test["only_a"],
            "only_sft_correct": test["only_b"], "mcnemar_p": test["mcnemar_p"],
        })
    return comparisons


def cmd_report(args) -> None:
    with open(args.filter) as f:
        filtered = json.load(f)
    distinct = recorded_distinct(filtered)
    verdicts = load_verdicts(args.results)
    entries = []
    for (model, stage), verdict in verdicts.items():
        training_set = _training_set(stage)
        correct, n = int(verdict.sum()), len(verdict)
        low, high = wilson_interval(correct, n)
        entries.append({"model": model, "stage": stage.partition("-")[0], "training_set": training_set,
                        "n_test": n, "correct": correct, "accuracy": round(correct / n, 4),
                        "ci_low": round(low, 4), "ci_high": round(high, 4),
                        "distinct_paths": distinct.get(training_set)})
    paired = paired_comparisons(verdicts)
    record = {}
    if os.path.exists(args.json):  # keep what is there: the controlled runs' report, commands, devices, notes
        with open(args.json) as f:
            record = json.load(f)
    # This run had one seed and no step-matched control: its record sits under its own key, beside
    # the controlled runs' report (benches/gsm8k_controls_report.py) that the file leads with.
    record.setdefault(EARLIER_KEY, {}).update(entries=entries, paired=paired, filter=filtered)
    with open(args.json, "w") as f:
        json.dump(record, f, indent=2, default=str)
    print("| model | stage | training set | distinct paths | correct / 1319 | accuracy % [95% CI] |")
    print("|---|---|---|---:|---:|---|")
    for e in entries:
        print(f"| {e['model']} | {e['stage']} | {e['training_set']} | {e['distinct_paths'] or ''} "
              f"| {e['correct']} | {100 * e['accuracy']:.1f} [{100 * e['ci_low']:.1f}, "
              f"{100 * e['ci_high']:.1f}] |")
    print()
    print("| model | RFT set | gain over SFT (points) | only RFT right | only SFT right | McNemar p | Holm p |")
    print("|---|---|---:|---:|---:|---:|---:|")
    holm = holm_adjust([c["mcnemar_p"] for c in paired])  # the family: every test of this table
    for c, p_holm in zip(paired, holm):
        print(f"| {c['model']} | {c['training_set']} | {100 * c['gain']:+.1f} "
              f"| {c['only_rft_correct']} | {c['only_sft_correct']} | {c['mcnemar_p']:.3f} | {p_holm:.3f} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    gpu_args = dict(base=dict(required=True, help="base model: GGUF file, folder or hub id"),
                    name=dict(required=True, help="model name in the results"),
                    gsm8k=dict(required=True, help="folder with GSM8K train.jsonl and test.jsonl"),
                    work=dict(required=True, help="scratch folder for checkpoints and specs"),
                    out=dict(required=True, help="folder for the files to bring back"))
    s1 = sub.add_parser("sft-sample", help="GPU: SFT, greedy eval of SFT, k samples per question")
    s3 = sub.add_parser("rft-eval", help="GPU: RFT on SFT data + each set, greedy eval")
    for s in (s1, s3):
        for name, kw in gpu_args.items():
            s.add_argument(f"--{name}", **kw)
        s.add_argument("--micro-batch", type=int, default=32, help="sequences per forward pass")
        s.add_argument("--batch", type=int, default=2048, help="sequences decoded at once")
        s.add_argument("--max-new-tokens", type=int, default=256)
        s.add_argument("--limit", type=int, help="first N questions of each split (rehearsals)")
        s.add_argument("--train-config", type=json.loads, default={},
                       help='TrainConfig fields as JSON, e.g. \'{"bf16": false}\'')
    s1.add_argument("--k", type=int, default=8)
    s3.add_argument("--sets", nargs="+", required=True, help="rft_<set>.parquet files from filter")
    s2 = sub.add_parser("filter", help="CPU: import, verify and dedup through the Spark jobs")
    s2.add_argument("--samples", nargs="+", required=True, help="MODEL=samples.parquet")
    s2.add_argument("--gsm8k", required=True)
    s2.add_argument("--home", required=True, help="RFT_HOME for this run's lakehouse")
    s2.add_argument("--out", required=True)
    s4 = sub.add_parser("report", help="results table and benches/results/gsm8k_rft.json")
    s4.add_argument("--results", required=True, help="folder with *.eval.parquet")
    s4.add_argument("--filter", required=True, help="filter_summary.json")
    s4.add_argument("--json", default="benches/results/gsm8k_rft.json")
    args = p.parse_args(argv)
    TRAIN_OPTIONS.update(getattr(args, "train_config", None) or {})
    if getattr(args, "out", None):
        os.makedirs(args.out, exist_ok=True)
    {"sft-sample": cmd_sft_sample, "filter": cmd_filter, "rft-eval": cmd_rft_eval,
     "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    main()
