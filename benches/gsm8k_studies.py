"""The scaling studies at real size: GSM8K, a real model, training on the GPU machine.

Built on the two-model run of benches/gsm8k_rft.py, whose lakehouse already holds every
sampled path and its verdict, so nothing is sampled again (the studies' own rule):

    # CPU machine: each cell's training data, cut by the pipeline's own Spark functions
    python -m benches.gsm8k_studies sets --home .gsm8k_run2/home --model qwen2.5-coder-0.5b \
        --gsm8k data/gsm8k --ks 1 3 --fractions 0.03125 0.125 0.5 --n-paths 10897 --out .gsm8k_studies/sets
    # GPU machine: train + greedy eval per cell (a finished cell is skipped), held-out losses
    python -m benches.gsm8k_studies train-eval --base ~/qwen.gguf --name qwen2.5-coder-0.5b \
        --gsm8k ~/gsm8k --work ~/studies --sets ~/study_sets --cells rft_vs_k-1 --out $OUT
    python -m benches.gsm8k_studies loss --base ~/smol.gguf --name smollm2-135m \
        --texts ~/study_sets/heldout.parquet --work ~/studies --out $OUT
    # anywhere: figures with the pipeline's own fits -> benches/results/scaling.json, plots
    # -> benches/results/scaling_gsm8k/<study>.png
    python -m benches.gsm8k_studies report --sets .gsm8k_studies/sets \
        --results .gsm8k_studies/results --run2 .gsm8k_run2

Cells the two-model run already trained are reused, not trained again: RFT vs k at k = K
(the own-paths RFT), SFT vs data at fraction 1 (the SFT model), the `distinct` arm at n = all
distinct paths (the own-paths RFT again), and the union gain (own vs union RFT). Each cell's
data is the pipeline's: `spark_jobs.study_inputs` builds the same examples from the same functions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

import pandas as pd

from benches.gsm8k_rft import (_greedy_verdicts, evaluate, finished, load_verdicts, paired, recorded_distinct,
                               rft_stage, run_step, train, write_questions)
from rft.filter.pools import UNION_POOL, own_pool
from rft.evaluation.significance import holm_adjust, wilson_interval
from rft.config.study_config import RftVsDiversityStudy, SftVsDataStudy
from rft.steps.step_specs import BaseModelSpec, HeldoutLossSpec

RESULTS_JSON = "benches/results/scaling.json"
PLOTS = "benches/results/scaling_gsm8k"
RUN_LABEL = "gsm8k-gpu"
# What produced the recorded figures (session 6), kept in the JSON with them.
COMMANDS = [
    "python -m benches.gsm8k_studies sets --home .gsm8k_run2/home --model qwen2.5-coder-0.5b --gsm8k "
    "data/gsm8k --ks 1 3 6 --fractions 0.03125 0.0625 0.125 0.25 0.5 --arms all_correct duplicates "
    "--out .gsm8k_studies/sets   # CPU machine, Spark",
    "python -m benches.gsm8k_studies loss --base ~/qwen.gguf --name qwen2.5-coder-0.5b --texts "
    "~/ssets/heldout.parquet --work ~/studies --out $OUT   # and the same for ~/smol.gguf, smollm2-135m",
    "python -m benches.gsm8k_studies train-eval --base ~/qwen.gguf --name qwen2.5-coder-0.5b --gsm8k ~/gsm8k "
    "--work ~/studies --sets ~/ssets --micro-batch 32 --batch 4096 --out $OUT --cells rft_vs_k-1 rft_vs_k-3 "
    "sft_vs_data-0.03125 sft_vs_data-0.125 sft_vs_data-0.25 rft_vs_diversity-all_correct "
    "rft_vs_diversity-duplicates   # in four calls",
    "python -m benches.gsm8k_studies report --sets .gsm8k_studies/sets --results .gsm8k_studies/results "
    "--run2 .gsm8k_run2",
]
DEVICE = ("this run's cells and losses: one NVIDIA H200 (session 6); reused cells (SFT, RFT on own and union "
          "paths): benches/results/gsm8k_rft.json")


# --- CPU: the cells' training data ---------------------------------------------------------

def cmd_sets(args) -> None:
    """Every cell's training examples (prompt, response) and a manifest of what each cell is."""
    os.environ["RFT_HOME"] = os.path.abspath(args.home)
    from pyspark.sql import functions as F

    from rft.task.prompts import heldout_text
    from rft.task.gsm8k import load_jsonl_questions
    from rft_dagster.resources import default_resources
    from spark_jobs.lakehouse import to_pandas
    from spark_jobs.step_inputs import as_examples
    from spark_jobs.study_datasets import filter_fraction, first_k_distinct_paths, with_subset_order
    from spark_jobs.study_inputs import selection_examples
    from spark_jobs.study_selection import own_correct_paths, paths_per_selection, select_paths

    os.makedirs(args.out, exist_ok=True)
    lake = default_resources()["spark"].lakehouse()
    versions = {name: lake.version(name) for name in ("questions", "verified_paths")}
    verified = lake.table("verified_paths", versions["verified_paths"])
    last_sample = verified.filter(F.col("model") == args.model).agg(F.max("sample_idx")).first()[0]
    if last_sample is None:
        models = sorted(r[0] for r in verified.select("model").distinct().collect())
        raise SystemExit(f"rft.verified_paths in {args.home} holds no paths of {args.model!r}; it has {models}")
    k_sampled = last_sample + 1
    # `rft import` filed the train questions as split "import" (nothing but imported paths
    # answers them there); for the studies they are the train split they came from.
    split = F.when(F.col("split") == "import", F.lit("train")).otherwise(F.col("split"))
    all_questions = lake.table("questions", versions["questions"]).withColumn("split", split)
    train_rows = to_pandas(all_questions.filter(F.col("split") == "train")
                           .select("question_id", "question", F.col("answer_text").alias("text")))
    sft = as_examples(train_rows)  # the SFT data: every train question's gold solution
    questions = train_rows[["question_id", "question"]]
    cells = []

    def write(name: str, examples: pd.DataFrame, **cell) -> None:
        examples.to_parquet(os.path.join(args.out, f"{name}.parquet"), index=False)
        cells.append({"cell": name, "model": args.model, "n_examples": len(examples), **cell})
        print(f"[sets] {cells[-1]}", flush=True)

    for k in args.ks:
        paths = to_pandas(first_k_distinct_paths(verified, args.model, k).select("question_id", "text"))
        paths = paths.merge(questions, on="question_id", how="inner", validate="many_to_one")
        write(f"rft_vs_k-{k}", pd.concat([sft, as_examples(paths)], ignore_index=True),
              study="rft_vs_k", varies="k", x=k, distinct_paths=len(paths), n_sft_rows=len(sft))

    ordered = with_subset_order(all_questions, args.subset_seed)
    n_train = ordered.count()
    for fraction in args.fractions:
        subset = to_pandas(filter_fraction(ordered, fraction, n_train)
                           .select("question", F.col("answer_text").alias("text")))
        write(f"sft_vs_data-{fraction:g}", as_examples(subset), study="sft_vs_data", varies="fraction",
              x=fraction, distinct_paths=0, n_sft_rows=len(subset))

    diversity = RftVsDiversityStudy()  # the pipeline's selection seed and duplicate share
    distinct = lake.computed_once(first_k_distinct_paths(verified, args.model, k_sampled))
    correct = own_correct_paths(verified, args.model)
    n = paths_per_selection(args.n_paths, distinct.count())
    for arm in args.arms:
        paths = to_pandas(select_paths(arm, distinct=distinct, correct=correct, n=n, seed=diversity.selection_seed,
                                       duplicate_share=diversity.duplicate_share))
        examples, counts = selection_examples(paths, questions, sft)
        write(f"rft_vs_diversity-{arm}", examples, study="rft_vs_diversity", varies="selection", arm=arm,
              **counts)

    # The held-out corpus (pretrain_loss.corpus: test_gold): each test question and its solution.
    test = load_jsonl_questions(os.path.join(args.gsm8k, "test.jsonl"), "test")
    pd.DataFrame({"text": [heldout_text(r["question"], r["answer"]) for r in test]}
                 ).to_parquet(os.path.join(args.out, "heldout.parquet"), index=False)
    manifest = {"model": args.model, "k_sampled": k_sampled, "n_paths": n, "n_sft_rows": len(sft),
                "table_versions": versions, "home": args.home, "cells": cells}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


# --- GPU: train and evaluate each cell; held-out loss of a base ------------------------------

def cmd_train_eval(args) -> None:
    paths = write_questions(args.gsm8k, args.work, args.limit)
    os.makedirs(args.out, exist_ok=True)
    for cell in args.cells:
        eval_out = os.path.join(args.out, f"{args.name}.{cell}.eval.parquet")
        kept = os.path.join(args.work, os.path.basename(eval_out))
        if finished(kept + ".json"):  # $OUT is empty at each call; the work folder is not
            shutil.copy(kept, eval_out)
            continue
        out_dir = os.path.join(args.work, f"{args.name}-{cell}")
        summary = {"train": train(args.base, os.path.join(args.sets, f"{cell}.parquet"), out_dir, args.work,
                                  cell, args.micro_batch)}
        summary["eval"] = evaluate(out_dir, paths["test"], eval_out, args.work, cell, args.batch,
                                   args.max_new_tokens)
        shutil.rmtree(out_dir)  # 0.5 GB each; the eval rows are what we keep
        shutil.copy(eval_out, kept)
        for path in (kept + ".json", eval_out + ".json"):
            with open(path, "w") as f:
                json.dump(summary, f, indent=2)


def cmd_loss(args) -> None:
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    output = os.path.join(args.out, f"{args.name}.heldout_loss.json")
    spec = HeldoutLossSpec(base=BaseModelSpec(spec=args.base), texts=args.texts, max_length=args.max_length,
                           batch_size=args.batch, output=output, progress=False)
    run_step(spec, os.path.join(args.work, f"heldout_loss_{args.name}.json"))


# --- anywhere: the figures ----------------------------------------------------------------------

def accuracy_row(verdict: pd.Series) -> dict:
    correct, n = int(verdict.sum()), len(verdict)
    low, high = wilson_interval(correct, n)
    return {"n_test": n, "n_correct": correct, "accuracy": correct / n, "ci_low": low, "ci_high": high}


def cell_verdicts(manifest: dict, results: str) -> dict[str, pd.Series]:
    """cell -> greedy verdict per test question, for the cells with an evaluation in `results`."""
    verdicts = {}
    for cell in manifest["cells"]:
        path = os.path.join(results, f"{manifest['model']}.{cell['cell']}.eval.parquet")
        if os.path.exists(path):
            verdicts[cell["cell"]] = _greedy_verdicts(path)
    return verdicts


def reused_cells(manifest: dict, run2: dict) -> list[dict]:
    """The two-model run's cells that are cells of these studies too (trained once, not again)."""
    model, n_sft = manifest["model"], run2["n_sft_rows"]
    own_paths = run2["distinct"][own_pool(model)]
    cells = [
        {"model": model, "study": "rft_vs_k", "varies": "k", "x": manifest["k_sampled"],
         "distinct_paths": own_paths, "stage": rft_stage(own_pool(model))},
        {"model": model, "study": "sft_vs_data", "varies": "fraction", "x": 1.0, "distinct_paths": 0,
         "stage": "sft"},
    ]
    if manifest["n_paths"] == own_paths:  # distinct at n = all distinct paths is the own-paths set
        cells.append({"model": model, "study": "rft_vs_diversity", "varies": "selection", "arm": "distinct",
                      "x": own_paths, "distinct_paths": own_paths, "stage": rft_stage(own_pool(model))})
    for name in sorted({m for m, _ in run2["verdicts"]}):  # the union gain of every model with both sets
        for arm, pool in (("own", own_pool(name)), ("union", UNION_POOL)):
            if (name, rft_stage(pool)) in run2["verdicts"]:
                paths = run2["distinct"][pool]
                cells.append({"model": name, "study": "union_gain", "varies": "training_set", "arm": arm,
                              "x": paths, "distinct_paths": paths, "stage": rft_stage(pool)})
    return [{**c, "n_sft_rows": n_sft} for c in cells]


def study_points(manifest: dict, verdicts: dict[str, pd.Series], run2: dict
                 ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series]]:
    """Rows shaped like rft.study_results, one per cell with an evaluation, by study; and each
    cell's verdicts by cell_id (for the paired tests).

    `verdicts` are this run's cells' evaluations; `run2` holds the two-model run's (its SFT and
    own/union RFT verdicts by (model, stage)) and the distinct-path counts of its sets.
    """
    rows, by_cell = [], {}
    for cell in manifest["cells"]:
        if cell["cell"] in verdicts:
            cell_id = f"{RUN_LABEL}:{cell['model']}:{cell['cell']}"
            by_cell[cell_id] = verdicts[cell["cell"]]
            rows.append({**cell, **accuracy_row(by_cell[cell_id]), "seed": 0, "cell_id": cell_id})
    for cell in reused_cells(manifest, run2):
        cell_id = f"gsm8k_rft:{cell['model']}:{cell['study']}:{cell.get('arm') or format(cell['x'], 'g')}"
        by_cell[cell_id] = run2["verdicts"][(cell["model"], cell.pop("stage"))]
        rows.append({**cell, **accuracy_row(by_cell[cell_id]), "seed": 0, "cell_id": cell_id})
    frame = pd.DataFrame(rows)
    return {study: group.reset_index(drop=True) for study, group in frame.groupby("study")}, by_cell


def paired_test(study: str, model: str, a: str, b: str, verdict_a: pd.Series, verdict_b: pd.Series) -> dict:
    """a against b on the same test questions: the difference and the exact McNemar test."""
    test = paired(verdict_a, verdict_b, f"{study} {model}: {a} against {b}")
    return {"study": study, "model": model, "a": a, "b": b, "n_test": test["n_test"], "difference": test["gain"],
            "only_a": test["only_a"], "only_b": test["only_b"], "mcnemar_p": test["mcnemar_p"]}


def paired_tests(points: dict[str, pd.DataFrame], verdicts: dict[str, pd.Series]) -> list[dict]:
    """The comparisons each claim is about, question by question: RFT at each k against SFT on all
    the data, distinct against each other selection, the union against own paths."""
    tests = []
    sft = points.get("sft_vs_data", pd.DataFrame(columns=["model", "x", "cell_id"]))
    full_sft = {r.model: r.cell_id for r in sft.itertuples() if r.x == 1.0}
    for r in points.get("rft_vs_k", pd.DataFrame()).itertuples():
        if r.model in full_sft:
            tests.append(paired_test("rft_vs_k", r.model, f"k={r.x:g}", "sft", verdicts[r.cell_id],
                                     verdicts[full_sft[r.model]]))
    for study, reference in (("rft_vs_diversity", "distinct"), ("union_gain", "union")):
        for model, group in points.get(study, pd.DataFrame(columns=["model"])).groupby("model"):
            arms = dict(zip(group["arm"], group["cell_id"]))
            for other in (arm for arm in arms if arm != reference and reference in arms):
                tests.append(paired_test(study, model, reference, other, verdicts[arms[reference]],
                                         verdicts[arms[other]]))
    return tests


def pretrain_inputs(losses: list[dict], verdicts: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(loss rows, accuracy rows) as rft.studies.pretrain_loss reads them, from the loss files and the run's evals."""
    loss_rows = pd.DataFrame([{"model": r["model"], "x": r["loss"], "n_params": r["n_params"],
                               "n_tokens": r["n_tokens"], "cell_id": f"{RUN_LABEL}:{r['model']}:heldout_loss"}
                              for r in losses])
    accuracies = []
    for (model, stage), verdict in verdicts.items():
        if stage == "sft" or stage == rft_stage(own_pool(model)):
            accuracies.append({"model": model, "stage": "sft" if stage == "sft" else "rft", **accuracy_row(verdict)})
    return loss_rows, pd.DataFrame(accuracies)


def cmd_report(args) -> None:
    from rft.reporting.study_registry import STUDIES
    from rft.studies.pretrain_loss import pretrain_figures, pretrain_points
    from rft_dagster.study_commands import records_table, write_records

    with open(os.path.join(args.sets, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(args.run2, "sets", "filter_summary.json")) as f:
        filtered = json.load(f)
    run2_verdicts = load_verdicts(os.path.join(args.run2, "results"))
    run2 = {"verdicts": run2_verdicts, "distinct": recorded_distinct(filtered),
            "n_sft_rows": manifest["n_sft_rows"]}
    points, verdicts = study_points(manifest, cell_verdicts(manifest, args.results), run2)
    entries = []
    for study in STUDIES:  # pretrain_loss, across models, is made from the loss files below
        if study.name in points and not study.across_models:
            entries += study.figures(points[study.name])
    losses = []
    for name in sorted(os.listdir(args.results)):
        if name.endswith(".heldout_loss.json"):
            with open(os.path.join(args.results, name)) as f:
                losses.append({"model": name[:-len(".heldout_loss.json")], **json.load(f)})
    if losses:
        loss_rows, accuracies = pretrain_inputs(losses, run2_verdicts)
        pretrain = pretrain_figures(pretrain_points(loss_rows, accuracies), loss_rows)
        by_model = {r["model"]: r for r in losses}
        for entry in pretrain:  # per-token losses of different tokenizers are not on one scale
            entry["nats_per_byte"] = [round(by_model[m]["nats_per_byte"], 6) for m in entry["models"]]
        entries += pretrain
    records = {"source": "benches/gsm8k_studies.py on the two-model GSM8K run (benches/results/gsm8k_rft.json, "
                         "earlier_uncontrolled_run)",
               "lakehouse_versions": manifest["table_versions"], "commands": COMMANDS, "device": DEVICE,
               "paired": paired_tests(points, verdicts), "entries": entries}
    print(records_table(records))
    print()
    print("| study | model | a | b | a - b (points) | only a right | only b right | McNemar p | Holm p |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    holm = holm_adjust([t["mcnemar_p"] for t in records["paired"]])  # the family: every test of this table
    for t, p_holm in zip(records["paired"], holm):
        print(f"| {t['study']} | {t['model']} | {t['a']} | {t['b']} | {100 * t['difference']:+.1f} "
              f"| {t['only_a']} | {t['only_b']} | {t['mcnemar_p']:.3f} | {p_holm:.3f} |")
    print(f"wrote {write_records(records, args.json, run=RUN_LABEL)}")
    for path in write_plots(points, [e for e in entries if e["study"] == "pretrain_loss"], args.plots):
        print(f"wrote {path}")


def write_plots(points: dict[str, pd.DataFrame], pretrain_entries: list[dict], folder: str) -> list[str]:
    """Each study's figure as the study assets draw it (intervals as error bars, fits dashed)."""
    from rft.reporting.comparison_plots import pretrain_loss_plot
    from rft.reporting.study_registry import find_study

    os.makedirs(folder, exist_ok=True)
    pngs = {study: find_study(study).view(frame.assign(n_steps=None)).png for study, frame in points.items()}
    if pretrain_entries:
        pngs["pretrain_loss"] = pretrain_loss_plot(pretrain_entries)
    written = []
    for study, png in pngs.items():
        written.append(os.path.join(folder, f"{study}.png"))
        with open(written[-1], "wb") as f:
            f.write(png)
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sets", help="CPU: each cell's training data from the run's lakehouse (Spark)")
    s.add_argument("--home", required=True, help="RFT_HOME of the benches.gsm8k_rft filter step")
    s.add_argument("--model", required=True)
    s.add_argument("--gsm8k", required=True, help="folder with GSM8K test.jsonl (the held-out corpus)")
    s.add_argument("--ks", type=int, nargs="*", default=[1, 3], help="RFT vs k: first k samples per question")
    s.add_argument("--fractions", type=float, nargs="*", default=[0.03125, 0.125, 0.5],
                   help="SFT vs data: fractions of the train split (nested, seed --subset-seed)")
    s.add_argument("--subset-seed", type=int, default=SftVsDataStudy().subset_seed)
    s.add_argument("--arms", nargs="*", default=["all_correct", "duplicates"],
                   help="RFT vs diversity selections (distinct at n = all distinct paths is the own-paths RFT)")
    s.add_argument("--n-paths", type=int, help="paths per diversity cell (default: all distinct paths)")
    s.add_argument("--out", required=True)
    t = sub.add_parser("train-eval", help="GPU: train each cell's data from the base, greedy eval on test")
    t.add_argument("--base", required=True, help="base model: GGUF file, folder or hub id")
    t.add_argument("--name", required=True, help="model name in the results")
    t.add_argument("--gsm8k", required=True, help="folder with GSM8K train.jsonl and test.jsonl")
    t.add_argument("--work", required=True, help="scratch folder; finished cells are kept here")
    t.add_argument("--sets", required=True, help="folder of the sets step's parquet files")
    t.add_argument("--cells", nargs="+", required=True, help="cell names, e.g. rft_vs_k-1 sft_vs_data-0.5")
    t.add_argument("--out", required=True)
    t.add_argument("--micro-batch", type=int, default=32)
    t.add_argument("--batch", type=int, default=2048, help="sequences decoded at once")
    t.add_argument("--max-new-tokens", type=int, default=256)
    t.add_argument("--limit", type=int, help="first N test questions only (rehearsals)")
    lo = sub.add_parser("loss", help="GPU: a base model's mean per-token loss on the held-out texts")
    lo.add_argument("--base", required=True)
    lo.add_argument("--name", required=True)
    lo.add_argument("--texts", required=True, help="heldout.parquet from the sets step")
    lo.add_argument("--work", required=True)
    lo.add_argument("--out", required=True)
    lo.add_argument("--max-length", type=int, default=512)
    lo.add_argument("--batch", type=int, default=16)
    r = sub.add_parser("report", help="figures and fits -> benches/results/scaling.json")
    r.add_argument("--sets", required=True, help="folder with the sets step's manifest.json")
    r.add_argument("--results", required=True, help="folder with the GPU steps' files")
    r.add_argument("--run2", required=True, help="the benches.gsm8k_rft run folder (results/, sets/)")
    r.add_argument("--json", default=RESULTS_JSON)
    r.add_argument("--plots", default=PLOTS, help="folder for one PNG per study")
    args = p.parse_args(argv)
    {"sets": cmd_sets, "train-eval": cmd_train_eval, "loss": cmd_loss, "report": cmd_report}[args.command](args)


if __name__ == "__main__":
    main()
