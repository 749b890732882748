"""`rft studies`: run the scaling studies of some models, show their cells, record their figures.

    rft studies run tiny-llama-a --config configs/demo.yaml   # studies_job: missing cells only
    rft studies show --record benches/results/scaling.json    # newest settings' cells, with fits

The record holds one entry per (study, model): x, y (greedy test accuracy), its 95% interval,
n and the fitted laws' parameters, read from `rft.study_results` at the Delta version it names.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, Definitions

from rft.result_tables import with_interval
from rft.studies import STUDIES
from rft.study_summary import figures, latest_settings
from rft_dagster.partitions import models_partitions
from rft_dagster.pipeline import _execute, check_models, render_table
from spark_jobs.lakehouse import Lakehouse, to_pandas


def run_studies(models: list[str], instance: DagsterInstance, defs: Definitions) -> None:
    """studies_job for each model; a model's sampled and verified paths must be there already."""
    check_models(defs, models, instance)  # unknown or imported names fail before any work
    instance.add_dynamic_partitions(models_partitions.name, models)
    for model in models:
        _execute(defs, "studies_job", instance, model)


def study_records(lake: Lakehouse) -> dict:
    """The newest settings' cells of every (study, model) as figures, with the table version read."""
    version = lake.version("study_results")
    rows = latest_settings(to_pandas(lake.table("study_results", version).drop("table_versions")))
    entries = []
    for study in STUDIES:
        points = rows[rows["study"] == study] if not rows.empty else rows
        if not points.empty:
            entries += figures(study, points)
    return {"table": "rft.study_results", "table_version": version, "entries": entries}


def write_records(records: dict, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    written = {"written_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), **records}
    out.write_text(json.dumps(written, indent=1) + "\n")
    return out


def records_table(records: dict) -> str:
    """One line per cell, then each (study, model)'s fitted laws."""
    cells, laws = [], []
    for e in records["entries"]:
        for i, x in enumerate(e["x"]):
            cells.append({"study": e["study"], "model": e["model"], e["varies"]: f"{x:g}", "seed": e["seed"][i],
                          "distinct paths": e["distinct_paths"][i], "SFT rows": e["n_sft_rows"][i],
                          "n_test": e["n"][i],
                          "accuracy % [95% CI]": with_interval(e["y"][i], e["ci_low"][i], e["ci_high"][i])})
        for against, fit in e["fits"].items():
            law = "fewer than 2 distinct x" if fit is None else (
                f"{fit['a']:.4f} + {fit['b']:.4f} {'ln ' if fit['log_x'] else ''}{against}, R^2 "
                + ("n/a" if fit["r2"] is None else f"{fit['r2']:.3f}"))
            laws.append({"study": e["study"], "model": e["model"], "accuracy vs": against, "fit": law})
    if not cells:
        return "no study cells yet: rft studies run MODEL"
    return (render_table(pd.DataFrame(cells).fillna("")) + "\n\n" + render_table(pd.DataFrame(laws))
            + f"\nrft.study_results v{records['table_version']}; accuracy: greedy maj1@1, [95% Wilson interval]")
