"""`rft studies`: run the scaling studies of some models, show their cells, record their figures.

    rft studies run tiny-llama-a --config configs/demo.yaml   # studies_job: missing cells only
    rft studies show --record benches/results/scaling.json --run-name demo-cpu   # newest settings' cells, with fits

The record holds one entry per (study, model): x, y (greedy test accuracy), its 95% interval,
n and the fitted laws' parameters, read from `rft.study_results` at the Delta version it names.
Categorical studies' x are the arms compared (distinct, all_correct, duplicates; own, union)
and their fits the differences between arms; pretrain_loss has one entry per stage across
models (model "all", `models` aligned with x, the loss) and says why when it cannot fit.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, Definitions

from rft.reporting.study_registry import STUDIES, find_study
from rft.studies.study_summary import latest_settings
from rft_dagster.partitions import models_partitions
from rft_dagster.job_runs import run_job
from rft_dagster.pipeline import check_models, render_table
from spark_jobs.lakehouse import Lakehouse, to_pandas
from spark_jobs.study_accuracy import stage_accuracies


def run_studies(models: list[str], instance: DagsterInstance, defs: Definitions) -> None:
    """studies_job for each model; its verified paths (and, for union_gain, its RFT evaluations) must be there."""
    check_models(defs, models, instance)  # unknown or imported names fail before any work
    instance.add_dynamic_partitions(models_partitions.name, models)
    for model in models:
        run_job(defs, "studies_job", instance, model)


def study_records(lake: Lakehouse) -> dict:
    """The newest settings' cells of every (study, model) as figures, with the table versions read.

    The study across models (pretrain_loss) has one entry per stage (SFT, RFT on own paths) across
    every model with a loss cell, its accuracies read from rft.eval_results.
    """
    version, eval_version = lake.version("study_results"), lake.version("eval_results")
    rows = latest_settings(to_pandas(lake.table("study_results", version).drop("table_versions")))
    accuracies = None
    entries = []
    for study in STUDIES:
        points = rows[rows["study"] == study.name] if not rows.empty else rows
        if points.empty:
            continue
        if study.across_models and accuracies is None:
            accuracies = to_pandas(stage_accuracies(lake.table("eval_results", eval_version)))
        entries += study.figures(points, accuracies)
    return {"table": "rft.study_results", "table_version": version, "eval_results_version": eval_version,
            "entries": entries}


def write_records(records: dict, out: Path, run: str = "local") -> Path:
    """Write `records` into `out` as the run named `run`, keeping the other runs' entries there.

    One file holds the figures of several runs (the embedded demo on a CPU, GSM8K on a GPU):
    each entry is tagged with its run, and `runs` says where each run's figures were read.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(out.read_text()) if out.exists() else {}
    if "runs" not in kept:  # a file from before runs were named: its figures are replaced
        kept = {}
    meta = {k: v for k, v in records.items() if k != "entries"}
    meta["written_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs = {**kept.get("runs", {}), run: meta}
    entries = [e for e in kept.get("entries", []) if e.get("run") != run]
    entries += [{"run": run, **e} for e in records["entries"]]
    out.write_text(json.dumps({"runs": dict(sorted(runs.items())), "entries": entries}, indent=1) + "\n")
    return out


def _law(against: str, fit: dict | None, why: str | None) -> str:
    if fit is None:
        return f"no fit: {why}" if why else "fewer than 2 distinct x"
    if "difference" in fit:
        return f"{100 * fit['difference']:+.1f} points [{100 * fit['ci_low']:+.1f}, {100 * fit['ci_high']:+.1f}]"
    x_name = {"log_params": "parameters"}.get(against, against)
    b = abs(fit["b"])
    slope = f"{b:.4f}" if b >= 1e-3 else f"{b:.3g}"  # per path: ~1e-6
    sign = "-" if fit["b"] < 0 else "+"  # written once: never "+ -0.0132"
    law = (f"{fit['a']:.4f} {sign} {slope} {'ln ' if fit['log_x'] else ''}{x_name}, R^2 "
           + ("n/a" if fit["r2"] is None else f"{fit['r2']:.3f}"))
    if "pearson_r" in fit:
        law += ", r " + ("n/a" if fit["pearson_r"] is None else f"{fit['pearson_r']:.3f}")
    return law


def records_table(records: dict) -> str:
    """One table of cells per study, then each (study, model)'s fitted laws and differences."""
    cells, laws = {}, []
    for e in records["entries"]:
        study = find_study(e["study"])
        cells.setdefault(e["study"], []).extend(study.record_rows(e))
        model = f"all ({e['stage']})" if study.across_models else e["model"]
        laws += [{"study": e["study"], "model": model, "accuracy vs": against,
                  "fit": _law(against, fit, e.get("no_fit", {}).get(against))} for against, fit in e["fits"].items()]
    if not any(cells.values()):
        return "no study cells yet: rft studies run MODEL"
    tables = [render_table(pd.DataFrame(rows)) for rows in cells.values() if rows]
    source = f"rft.study_results v{records['table_version']}" if "table_version" in records else records["source"]
    return ("\n\n".join(tables) + "\n\n" + render_table(pd.DataFrame(laws))
            + f"\n{source}; accuracy: greedy maj1@1, [95% Wilson interval]")
